"""The product against the provider simulator over real HTTP: accounts connected with credentials checked at the
provider, inbound messages delivered as signed webhooks, media downloaded from the provider."""
from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from commsinbox.adapters.providers.simulator import SimulatorState, create_simulator_app
from commsinbox.entrypoints.container import Services, postgres_services
from commsinbox.entrypoints.web.app import create_app
from commsinbox.entrypoints.web.background import drain
from tests.conftest import FAST_HASHER, make_team, settings_for
from tests.support.api import Api
from tests.support.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@attrs.define
class World:
    api: Api
    sim: TestClient
    services: Services
    app: web.Application

    async def sim_post(self, path: str, body: dict[str, Any]) -> Any:
        response = await self.sim.post(path, json=body)
        assert response.status == 200, await response.text()
        return await response.json()


@pytest.fixture
async def world(pg_owner_url: str, tmp_path: Path) -> AsyncIterator[World]:
    port = free_port()
    state = SimulatorState()
    sim = TestClient(TestServer(create_simulator_app(state)))
    await sim.start_server()
    sim_url = str(sim.make_url("")).rstrip("/")
    state.target = f"http://127.0.0.1:{port}"
    settings = settings_for(tmp_path, pg_owner_url, PUBLIC_BASE_URL=state.target, TWILIO_API_BASE_URL=sim_url,
                            META_GRAPH_BASE_URL=sim_url)
    async with postgres_services(settings, owner=pg_owner_url, migrate_first=False, hasher=FAST_HASHER) as services:
        app = create_app(settings, services, run_worker=True)  # sends are jobs: serve's in-process worker
        client = TestClient(TestServer(app, port=port))
        await client.start_server()
        member = await make_team(services)
        api = await Api(client).login(member.email, PASSWORD)
        yield World(api.as_(api.token, member.team_id), sim, services, app)
        await drain(app)
        for account in (await api.as_(api.token, member.team_id).query("communications.accounts.list")).data:
            await api.as_(api.token, member.team_id).mutate("communications.accounts.remove", {"id": account["id"]})
        await client.close()
    await sim.close()


async def sent_by_the_job(world: World, thread_id: str, message_id: str, timeout: float = 30.0) -> None:
    """Waits until the worker's send job has recorded the message as handed to the provider."""
    deadline = time.monotonic() + timeout
    while True:
        listed = (await world.api.query("communications.messages.list", {"threadId": thread_id})).data["items"]
        if any(m["id"] == message_id and m.get("providerMessageId") for m in listed):
            return
        assert time.monotonic() < deadline, f"the send job did not send {message_id} in {timeout:.0f} s"
        await asyncio.sleep(0.05)


async def test_accounts_are_checked_at_the_provider_and_never_show_their_credentials(world: World) -> None:
    meta = await world.sim_post("/_sim/accounts", {"provider": "whatsapp-meta"})
    twilio = await world.sim_post("/_sim/accounts", {"provider": "whatsapp-twilio", "senders": ["+14155238886"]})
    ig = await world.sim_post("/_sim/accounts", {"provider": "instagram-meta"})
    connected = [(await world.api.mutate("communications.accounts.connect", body)) for body in (
        {"provider": "whatsapp-meta", "displayName": "Shop WA", "externalId": meta["phoneNumberId"],
         "credentials": {"accessToken": meta["accessToken"], "appSecret": meta["appSecret"]}},
        {"provider": "whatsapp-twilio", "displayName": "Shop Twilio", "externalId": "whatsapp:+14155238886",
         "credentials": {"accountSid": twilio["accountSid"], "authToken": twilio["authToken"]}},
        {"provider": "instagram-meta", "displayName": "Shop IG", "externalId": ig["igId"],
         "credentials": {"accessToken": ig["accessToken"], "appSecret": ig["appSecret"]}})]
    assert [(r.status, r.data["status"]) for r in connected] == [(200, "active")] * 3
    assert connected[1].data["externalId"] == "+14155238886"
    listed = (await world.api.query("communications.accounts.list")).body
    for secret in (meta["accessToken"], meta["appSecret"], twilio["authToken"], ig["accessToken"]):
        assert secret not in str(listed)

    refused = await world.api.mutate("communications.accounts.connect", {
        "provider": "whatsapp-meta", "displayName": "Wrong", "externalId": "999000111",
        "credentials": {"accessToken": "EAA-not-the-token"}})
    assert (refused.code, refused.error["data"]["fields"][0]["path"]) == ("BAD_REQUEST", "credentials")
    duplicate = await world.api.mutate("communications.accounts.connect", {
        "provider": "whatsapp-meta", "displayName": "Again", "externalId": meta["phoneNumberId"],
        "credentials": {"accessToken": meta["accessToken"]}})
    assert duplicate.code == "CONFLICT"

    account_id = connected[0].data["id"]
    bad_rotation = await world.api.mutate("communications.accounts.rotateCredentials", {
        "id": account_id, "credentials": {"accessToken": "EAA-wrong"}})
    assert bad_rotation.code == "BAD_REQUEST"
    assert (await world.api.mutate("communications.accounts.verify", {"id": account_id})).data["status"] == "active"
    assert (await world.api.mutate("communications.accounts.remove", {"id": account_id})).data == {"ok": True}
    assert (await world.api.query("communications.accounts.get", {"id": account_id})).code == "NOT_FOUND"


async def connected(world: World, provider: str) -> tuple[dict[str, Any], str]:
    """A simulated account of `provider`, connected through the API; returns it and its external id."""
    key = {"whatsapp-meta": "phoneNumberId", "instagram-meta": "igId"}.get(provider)
    sim_account = await world.sim_post("/_sim/accounts", {"provider": provider, "senders": ["+14155238886"]})
    credentials = ({"accountSid": sim_account["accountSid"], "authToken": sim_account["authToken"]}
                   if key is None else {"accessToken": sim_account["accessToken"], "appSecret": sim_account["appSecret"]})
    external_id = "+14155238886" if key is None else sim_account[key]
    reply = await world.api.mutate("communications.accounts.connect", {
        "provider": provider, "displayName": "Shop", "externalId": external_id, "credentials": credentials})
    assert reply.status == 200, reply.body
    return sim_account, external_id


@pytest.mark.parametrize("provider", ["whatsapp-meta", "whatsapp-twilio", "instagram-meta"])
async def test_a_simulated_customer_message_with_media_lands_in_the_inbox(world: World, provider: str) -> None:
    sim_account, external_id = await connected(world, provider)
    twilio = provider == "whatsapp-twilio"
    media = await world.sim_post("/_sim/media", {"contentBase64": "aGVsbG8gcGljdHVyZQ==", "contentType": "image/jpeg",
                                                 **({"accountSid": sim_account["accountSid"]} if twilio else {})})
    sent = await world.sim_post("/_sim/inbound", {"provider": provider, "to": external_id, "media": [media["id"]]})
    assert sent["httpStatus"] == 200, sent
    await drain(world.app)
    async with world.services.uows.for_team(world.api.team_id) as uow:  # type: ignore[arg-type]
        account = (await uow.accounts.list())[0]
        message = await uow.messages.by_provider_id(account.id, sent["messageIds"][0])
        assert message is not None and message.direction.value == "in"
        attachments = await uow.messages.attachments(message.id)
    assert [(a.size, a.content_type, a.error) for a in attachments] == [(13, "image/jpeg", None)]
    assert await world.services.storage.get(attachments[0].storage_path or "") == b"hello picture"
    [thread] = (await world.api.query("communications.threads.list", {})).data["items"]
    [listed] = (await world.api.query("communications.messages.list", {"threadId": thread["id"]})).data["items"]
    assert listed["attachments"] == [{"id": attachments[0].id, "contentType": "image/jpeg", "size": 13,
                                      "checksum": attachments[0].checksum, "storagePath": attachments[0].storage_path}]


@pytest.mark.parametrize("provider", ["whatsapp-meta", "whatsapp-twilio", "instagram-meta"])
async def test_an_agent_reply_goes_out_as_the_provider_expects_and_its_statuses_come_back(
        world: World, provider: str) -> None:
    sim_account, external_id = await connected(world, provider)
    await world.sim_post("/_sim/settings", {"autoStatus": True})
    await world.sim_post("/_sim/inbound", {"provider": provider, "to": external_id, "text": "Is the cake ready?"})
    await drain(world.app)
    [thread] = (await world.api.query("communications.threads.list", {})).data["items"]

    sent = await world.api.mutate("communications.messages.send", {
        "threadId": thread["id"], "idempotencyKey": "reply-1", "text": "Yes, come by at 5!"})
    assert sent.status == 200, sent.body
    assert sent.data["decision"] == {"outcome": "allowed"}
    again = await world.api.mutate("communications.messages.send", {
        "threadId": thread["id"], "idempotencyKey": "reply-1", "text": "Yes, come by at 5!"})
    assert again.data["message"]["id"] == sent.data["message"]["id"]
    await sent_by_the_job(world, thread["id"], sent.data["message"]["id"])

    requests = [r for r in (await (await world.sim.get("/_sim/requests", params={"method": "POST"})).json())["requests"]
                if r["path"].endswith(("/messages", "/Messages.json"))]
    assert len(requests) == 1  # the same key never sends twice
    request = requests[0]
    to = thread["contact"]["externalId"]
    if provider == "whatsapp-twilio":
        form = dict(request["form"])
        assert request["path"] == f"/2010-04-01/Accounts/{sim_account['accountSid']}/Messages.json"
        assert (form["From"], form["To"], form["Body"]) == ("whatsapp:+14155238886", "whatsapp:+" + to.lstrip("+"),
                                                             "Yes, come by at 5!")
        assert form["StatusCallback"].endswith("/webhooks/twilio/whatsapp")
    elif provider == "whatsapp-meta":
        assert request["path"].endswith(f"/{external_id}/messages")
        assert request["json"]["messaging_product"] == "whatsapp" and request["json"]["type"] == "text"
        assert request["json"]["text"]["body"] == "Yes, come by at 5!"
        assert request["json"]["to"].lstrip("+") == to.lstrip("+")
    else:
        assert request["path"].endswith("/me/messages")
        assert request["json"]["recipient"] == {"id": to}
        assert request["json"]["message"] == {"text": "Yes, come by at 5!"}
        assert request["json"]["messaging_type"] == "RESPONSE"

    await (await world.sim.get("/_sim/deliveries", params={"wait": "1"})).json()
    await drain(world.app)
    message_id = sent.data["message"]["id"]
    status = (await world.api.query("communications.messages.deliveryStatus", {"id": message_id})).data
    expected = ["read"] if provider == "instagram-meta" else ["sent", "delivered", "read"]  # Instagram: seen only
    assert [h["status"] for h in status["history"]] == expected
    assert status["status"] == "read"
    listed = (await world.api.query("communications.messages.list", {"threadId": thread["id"]})).data["items"]
    assert [m["direction"] for m in listed] == ["out", "in"]  # newest first
    assert (listed[0]["id"], listed[0]["status"], listed[0]["content"]) == (message_id, "read", "Yes, come by at 5!")
    assert listed[0]["providerMessageId"]


@pytest.mark.parametrize("provider", ["whatsapp-meta", "instagram-meta"])
async def test_reading_a_thread_marks_the_customer_message_read_at_the_provider(world: World, provider: str) -> None:
    _, external_id = await connected(world, provider)
    sent = await world.sim_post("/_sim/inbound", {"provider": provider, "to": external_id, "text": "Hello?"})
    await drain(world.app)
    [thread] = (await world.api.query("communications.threads.list", {})).data["items"]
    read = await world.api.mutate("communications.threads.markRead", {"id": thread["id"]})
    assert (read.status, read.data["unreadCount"]) == (200, 0)
    async with asyncio.timeout(10):  # serve's in-process worker runs the receipt's job
        while not (reads := (await (await world.sim.get("/_sim/reads")).json())["reads"]):
            await asyncio.sleep(0.05)
    expected = ({"messageId": sent["messageIds"][0]} if provider == "whatsapp-meta"
                else {"recipientId": thread["contact"]["externalId"]})
    assert reads == [{"provider": provider, "account": external_id, **expected}]  # one receipt, for that message


@pytest.mark.parametrize(("provider", "code", "prefix"), [
    ("whatsapp-twilio", 63018, "/2010-04-01/Accounts/"), ("whatsapp-meta", 130429, "/v")])
async def test_a_throttled_send_is_retried_by_the_job_under_the_same_key_and_sent_once(
        world: World, provider: str, code: int, prefix: str) -> None:
    _, external_id = await connected(world, provider)
    await world.sim_post("/_sim/inbound", {"provider": provider, "to": external_id, "text": "Hi"})
    await drain(world.app)
    [thread] = (await world.api.query("communications.threads.list", {})).data["items"]
    await world.sim_post("/_sim/faults", {"path_prefix": prefix, "code": code, "count": 1, "method": "POST"})
    sent = await world.api.mutate("communications.messages.send", {
        "threadId": thread["id"], "idempotencyKey": "throttled-1", "text": "Coming right up"})
    assert sent.status == 200, sent.body
    await sent_by_the_job(world, thread["id"], sent.data["message"]["id"])
    requests = [r for r in (await (await world.sim.get("/_sim/requests", params={"method": "POST"})).json())["requests"]
                if r["path"].endswith(("/messages", "/Messages.json"))]
    assert len(requests) == 2  # the throttled call, then the retry after the backoff
    if provider == "whatsapp-meta":  # the same idempotency key on both calls
        assert {r["json"]["biz_opaque_callback_data"] for r in requests} == {"throttled-1"}
    else:
        assert all(dict(r["form"])["Body"] == "Coming right up" for r in requests)
    # tenacity waits 1 to 2 s first; the in-process simulator may record the first arrival late, so half of it
    assert requests[1]["monotonic"] - requests[0]["monotonic"] >= 0.5


async def test_an_accounts_rate_cap_is_set_through_the_api_and_a_bad_one_changes_nothing(world: World) -> None:
    await connected(world, "whatsapp-meta")
    [account] = (await world.api.query("communications.accounts.list")).data
    assert account["rateCap"] == {"perSecond": 80, "burst": 1}  # Meta's default
    changed = await world.api.mutate("communications.accounts.setRateCap",
                                     {"id": account["id"], "perSecond": 20, "burst": 3})
    assert (changed.status, changed.data["rateCap"]) == (200, {"perSecond": 20, "burst": 3})
    bad = await world.api.mutate("communications.accounts.setRateCap", {"id": account["id"], "perSecond": 0})
    assert (bad.code, bad.error["data"]["fields"][0]["path"]) == ("BAD_REQUEST", "rateCap.perSecond")
    assert (await world.api.query("communications.accounts.get", {"id": account["id"]})).data["rateCap"] == {
        "perSecond": 20, "burst": 3}
