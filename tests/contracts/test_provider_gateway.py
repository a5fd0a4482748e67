"""The outbound side of the ProviderGateway port over both adapters — the memory fake and the HTTP gateways against
the simulator — with the same assertions, so the fake cannot drift from the real thing."""
from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import attrs
import pytest

from commsinbox.adapters.clock import FixedClock
from commsinbox.adapters.memory.providers import MemoryProviderGateway
from commsinbox.adapters.providers.registry import http_gateways
from commsinbox.adapters.providers.simulator import SimulatorState, create_simulator_app
from commsinbox.domain.model.channels import MessageType, Provider
from commsinbox.domain.model.errors import InvalidInput
from commsinbox.ports.providers import (AccountAccess, FailureReason, Outgoing, OutgoingMedia, OutgoingTemplate,
                                        ProviderError, ProviderGateway)

pytestmark = pytest.mark.integration

SENDER = "+14155238886"
WABA_ID = "102290129340398"
CONTENT_SID = "HX" + "1" * 32
RECIPIENTS = {Provider.WHATSAPP_TWILIO: "+16505551234", Provider.WHATSAPP_META: "16505551234",
              Provider.INSTAGRAM_META: "9000000000000001"}
TEMPLATES = {Provider.WHATSAPP_TWILIO: OutgoingTemplate(CONTENT_SID, "en", ("Ana",)),
             Provider.WHATSAPP_META: OutgoingTemplate("order_update", "en_US", ("Ana",))}


@attrs.frozen
class Driver:
    gateway: ProviderGateway
    access: AccountAccess
    sends: Callable[[], Awaitable[int]]  # how many sends reached the provider

    @property
    def to(self) -> str:
        return RECIPIENTS[self.gateway.provider]


async def _http(session: aiohttp.ClientSession, base: str, provider: Provider) -> Driver:
    async def control(path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with session.post(f"{base}/_sim/{path}", json=body) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def sends() -> int:
        async with session.get(f"{base}/_sim/requests", params={"method": "POST"}) as response:
            found = (await response.json())["requests"]
        return len([r for r in found if r["path"].endswith(("/messages", "/Messages.json"))])

    if provider is Provider.WHATSAPP_TWILIO:
        account = await control("accounts", {"provider": provider, "senders": [SENDER]})
        await control("templates", {"provider": provider, "accountSid": account["accountSid"],
                                    "contentSid": CONTENT_SID, "variables": 1})
        access = AccountAccess(provider, SENDER, {"accountSid": account["accountSid"],
                                                  "authToken": account["authToken"]})
    elif provider is Provider.WHATSAPP_META:
        account = await control("accounts", {"provider": provider, "wabaId": WABA_ID})
        await control("templates", {"provider": provider, "wabaId": WABA_ID, "name": "order_update",
                                    "language": "en_US", "variables": 1})
        access = AccountAccess(provider, account["phoneNumberId"], {"accessToken": account["accessToken"],
                                                                    "wabaId": WABA_ID})
    else:
        account = await control("accounts", {"provider": provider})
        access = AccountAccess(provider, account["igId"], {"accessToken": account["accessToken"]})
    gateway = http_gateways(session, twilio_base_url=base, graph_base_url=base).gateway(provider)
    return Driver(gateway, access, sends)


def _memory(provider: Provider) -> Driver:
    gateway = MemoryProviderGateway(provider)
    external_id = SENDER if provider is Provider.WHATSAPP_TWILIO else "106540352242922"
    credentials = ({"accountSid": "AC" + "0" * 32, "authToken": "t"} if provider is Provider.WHATSAPP_TWILIO
                   else {"accessToken": "t", "wabaId": WABA_ID})

    async def sends() -> int:
        return len(gateway.sent)

    return Driver(gateway, AccountAccess(provider, external_id, credentials), sends)


@pytest.fixture(params=[(backend, provider) for backend in ("memory", "http") for provider in RECIPIENTS],
                ids=lambda p: f"{p[0]}-{p[1]}")
async def driver(request: pytest.FixtureRequest, aiohttp_server: Any) -> AsyncIterator[Driver]:
    backend, provider = request.param
    if backend == "memory":
        yield _memory(provider)
        return
    server = await aiohttp_server(create_simulator_app(SimulatorState(clock=FixedClock())))
    async with aiohttp.ClientSession() as session:
        yield await _http(session, str(server.make_url("")).rstrip("/"), provider)


async def test_a_text_is_sent_once_with_an_id(driver: Driver) -> None:
    sent = await driver.gateway.send(driver.access, Outgoing(to=driver.to, idempotency_key="k1", text="hello"))
    assert isinstance(sent.provider_message_id, str) and sent.provider_message_id
    assert await driver.sends() == 1


async def test_an_image_by_url(driver: Driver) -> None:
    image = OutgoingMedia(kind=MessageType.IMAGE, content_type="image/jpeg", size=1000,
                          url="https://cdn.example.com/1.jpg")
    await driver.gateway.send(driver.access, Outgoing(to=driver.to, idempotency_key="k1", media=image))
    assert await driver.sends() == 1


async def test_templates_where_the_provider_has_them(driver: Driver) -> None:
    template = TEMPLATES.get(driver.gateway.provider, OutgoingTemplate("order_update", "en_US"))
    message = Outgoing(to=driver.to, idempotency_key="k1", template=template)
    if driver.gateway.provider is Provider.INSTAGRAM_META:
        with pytest.raises(InvalidInput):
            await driver.gateway.send(driver.access, message)
        assert await driver.sends() == 0
    else:
        assert (await driver.gateway.send(driver.access, message)).provider_message_id
        assert await driver.sends() == 1


@pytest.mark.parametrize("message", [
    Outgoing(to="", idempotency_key="k", text="x" * 5000),
    Outgoing(to="", idempotency_key="k"),
    Outgoing(to="", idempotency_key="k", text="caption", media=OutgoingMedia(
        kind=MessageType.AUDIO, content_type="audio/aac", size=10, url="https://cdn.example.com/a.aac")),
    Outgoing(to="", idempotency_key="k", media=OutgoingMedia(
        kind=MessageType.IMAGE, content_type="image/jpeg", size=30 * 2**20, url="https://cdn.example.com/a.jpg")),
], ids=["too-long", "empty", "caption-on-audio", "too-large"])
async def test_what_the_provider_cannot_carry_is_refused_before_sending(driver: Driver, message: Outgoing) -> None:
    with pytest.raises(InvalidInput):
        await driver.gateway.send(driver.access, attrs.evolve(message, to=driver.to))
    assert await driver.sends() == 0


W, T, I = Provider.WHATSAPP_META, Provider.WHATSAPP_TWILIO, Provider.INSTAGRAM_META


@pytest.mark.parametrize("media, accepted_by", [
    (OutgoingMedia(kind=MessageType.IMAGE, content_type="image/jpeg", size=2**20), {W, T, I}),
    (OutgoingMedia(kind=MessageType.IMAGE, content_type="image/gif", size=10), set()),
    (OutgoingMedia(kind=MessageType.DOCUMENT, content_type="application/pdf", size=20 * 2**20), {W, I}),
    (OutgoingMedia(kind=MessageType.STICKER, content_type="image/webp", size=10_000), {W, T}),
    (OutgoingMedia(kind=MessageType.VIDEO, content_type="video/webm", size=10_000), {I}),
], ids=["small-jpeg", "gif", "20MB-pdf", "sticker", "webm"])
async def test_check_media(driver: Driver, media: OutgoingMedia, accepted_by: set[Provider]) -> None:
    if driver.gateway.provider in accepted_by:
        driver.gateway.check_media(media)
        return
    with pytest.raises(InvalidInput) as caught:
        driver.gateway.check_media(media)
    assert caught.value.fields[0].path == "attachmentIds"


async def test_mark_read_and_template_submission(driver: Driver) -> None:
    await driver.gateway.mark_read(driver.access, "wamid.X" if driver.gateway.provider is Provider.WHATSAPP_META
                                   else "m1", driver.to)
    if driver.gateway.provider is Provider.WHATSAPP_META:
        assert await driver.gateway.submit_template(driver.access, "welcome", "en_US", "utility", "Hi {{1}}")
        return
    with pytest.raises(ProviderError) as caught:
        await driver.gateway.submit_template(driver.access, "welcome", "en_US", "utility", "Hi {{1}}")
    assert caught.value.reason == FailureReason.UNSUPPORTED and not caught.value.transient
