"""The provider simulator on a real port, a client session, and one registered account per provider."""
from __future__ import annotations

import io
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import attrs
import pytest
from aiohttp import web

from commsinbox.adapters.clock import FixedClock
from commsinbox.adapters.providers.meta_instagram.gateway import MetaInstagramGateway
from commsinbox.adapters.providers.meta_whatsapp.gateway import MetaWhatsAppGateway
from commsinbox.adapters.providers.simulator import SimulatorState, create_simulator_app
from commsinbox.adapters.providers.twilio_whatsapp.gateway import TwilioWhatsAppGateway
from commsinbox.domain.model.channels import Provider
from commsinbox.ports.providers import AccountAccess

SENDER = "+14155238886"
WABA_ID = "102290129340398"


@attrs.frozen
class Received:
    url: str
    headers: dict[str, str]
    body: bytes


@attrs.define
class Sim:
    state: SimulatorState
    base: str
    session: aiohttp.ClientSession
    received: list[Received] = attrs.field(factory=list)  # webhooks the simulator POSTed to `target`
    target: str = ""

    async def control(self, path: str, body: dict[str, Any], expect: int = 200) -> dict[str, Any]:
        async with self.session.post(f"{self.base}/_sim/{path}", json=body) as response:
            assert response.status == expect, await response.text()
            return await response.json()

    async def get(self, path: str, **params: str) -> dict[str, Any]:
        async with self.session.get(f"{self.base}/_sim/{path}", params=params) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def media(self, data: bytes, content_type: str = "image/jpeg", **query: Any) -> dict[str, Any]:
        """Registers raw bytes (the JSON/base64 form is exercised in test_simulator)."""
        params = {key: str(value).lower() if isinstance(value, bool) else value for key, value in query.items()}
        async with self.session.post(f"{self.base}/_sim/media", data=io.BytesIO(data), params=params,
                                     headers={"Content-Type": content_type}) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def requests(self, prefix: str = "") -> list[dict[str, Any]]:
        return (await self.get("requests", prefix=prefix))["requests"]

    async def fault(self, prefix: str, status: int | None = None, count: int = 1, body: Any = None,
                    **extra: Any) -> None:
        await self.control("faults", {"path_prefix": prefix, "status": status, "count": count, "body": body,
                                      **extra})


@pytest.fixture
async def sim(aiohttp_server: Any) -> AsyncIterator[Sim]:
    received: list[Received] = []

    async def webhook(request: web.Request) -> web.Response:
        received.append(Received(str(request.url), dict(request.headers), await request.read()))
        return web.Response(text="<Response/>", content_type="text/xml")

    target_app = web.Application()
    target_app.router.add_post("/{tail:.*}", webhook)
    target = str((await aiohttp_server(target_app)).make_url("")).rstrip("/")
    state = SimulatorState(target=target, clock=FixedClock())
    server = await aiohttp_server(create_simulator_app(state))
    async with aiohttp.ClientSession() as session:
        yield Sim(state, str(server.make_url("")).rstrip("/"), session, received, target)


@pytest.fixture
async def whatsapp(sim: Sim) -> tuple[MetaWhatsAppGateway, AccountAccess]:
    account = await sim.control("accounts", {"provider": "whatsapp-meta", "displayPhoneNumber": "+15550783881",
                                             "wabaId": WABA_ID, "appSecret": "wa-app-secret"})
    access = AccountAccess(Provider.WHATSAPP_META, account["phoneNumberId"],
                           {"accessToken": account["accessToken"], "wabaId": WABA_ID})
    return MetaWhatsAppGateway(sim.session, base_url=sim.base, version="v23.0"), access


@pytest.fixture
async def instagram(sim: Sim) -> tuple[MetaInstagramGateway, AccountAccess]:
    account = await sim.control("accounts", {"provider": "instagram-meta", "username": "shop",
                                             "appSecret": "ig-app-secret"})
    access = AccountAccess(Provider.INSTAGRAM_META, account["igId"], {"accessToken": account["accessToken"]})
    return MetaInstagramGateway(sim.session, sim.base, "v23.0"), access


@pytest.fixture
async def twilio(sim: Sim) -> tuple[TwilioWhatsAppGateway, AccountAccess]:
    account = await sim.control("accounts", {"provider": "whatsapp-twilio", "senders": [SENDER]})
    access = AccountAccess(Provider.WHATSAPP_TWILIO, SENDER,
                           {"accountSid": account["accountSid"], "authToken": account["authToken"]})
    return TwilioWhatsAppGateway(sim.session, base_url=sim.base), access


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"
