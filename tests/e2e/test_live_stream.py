"""The live stream over HTTP (tRPC subscription over server-sent events) with two servers on one database: a
webhook taken by one server reaches a subscriber of the same team on the other within a second (PostgreSQL
LISTEN/NOTIFY), and never a subscriber of another team."""
from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from commsinbox.domain.model.channels import Provider
from commsinbox.domain.usecases.connections import Connect
from commsinbox.adapters.memory.providers import MemoryProviderRegistry
from commsinbox.entrypoints.container import Services, postgres_services
from commsinbox.entrypoints.web.app import create_app
from commsinbox.entrypoints.web.background import drain
from tests.conftest import FAST_HASHER, Member, make_team, settings_for
from tests.e2e.test_webhooks import text_payload
from tests.support.api import Api
from tests.support.factories import PASSWORD
from tests.support.webhooks import META_APP_SECRET, META_PATHS, PUBLIC_BASE_URL, post_meta

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
PATH = "/trpc/communications.inbox.onChange"


@attrs.frozen
class Event:
    event: str | None
    data: Any
    id: str | None


class EventStream:
    """Reads server-sent events from an open response, one at a time."""

    def __init__(self, response: ClientResponse) -> None:
        self.response = response

    async def next(self, timeout: float) -> Event:
        return await asyncio.wait_for(self._read(), timeout)

    async def next_data(self, timeout: float) -> Event:
        """The next event carrying data (pings skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            event = await self.next(max(deadline - time.monotonic(), 0.001))
            if event.event is None:
                return event

    async def _read(self) -> Event:
        fields: dict[str, str] = {}
        while True:
            line = (await self.response.content.readline()).decode()
            if not line:
                raise EOFError("the stream ended")
            if line == "\n":
                if fields:
                    data = json.loads(fields["data"]) if fields.get("data") else None
                    return Event(fields.get("event"), data, fields.get("id"))
                continue
            name, _, value = line.rstrip("\n").partition(": ")
            fields[name] = value


@attrs.define
class Servers:
    a: TestClient
    b: TestClient
    services: Services
    ours: Member
    theirs: Member

    async def account(self) -> str:
        """A WhatsApp Cloud account of our team; returns the phone number id its webhooks name."""
        key = f"pn-{uuid.uuid4().hex[:12]}"
        await self.services.connections.connect(self.ours.actor, Connect(
            Provider.WHATSAPP_META.value, "Shop", key, {"accessToken": "EAAG-test"}))
        return key

    @contextlib.asynccontextmanager
    async def subscribe(self, member: Member, **input: Any) -> AsyncIterator[EventStream]:
        api = await Api(self.a).login(member.email, PASSWORD)
        query = {"input": json.dumps({"json": {"teamId": member.team_id, **input}})}
        response = await self.a.get(PATH, params=query, headers={"Authorization": f"Bearer {api.token}"})
        try:
            assert response.status == 200, await response.text()
            assert response.headers["Content-Type"].startswith("text/event-stream")
            stream = EventStream(response)
            connected = await stream.next(5)
            assert (connected.event, connected.data) == ("connected", {})
            await asyncio.sleep(0.2)  # the stream has taken its position
            yield stream
        finally:
            response.close()


@pytest.fixture
async def servers(pg_owner_url: str, tmp_path: Path) -> AsyncIterator[Servers]:
    settings = settings_for(tmp_path, pg_owner_url, PUBLIC_BASE_URL=PUBLIC_BASE_URL, META_APP_SECRET=META_APP_SECRET)
    gateways = MemoryProviderRegistry()
    async with postgres_services(settings, owner=pg_owner_url, migrate_first=False, hasher=FAST_HASHER,
                                 providers=gateways) as one, \
            postgres_services(settings, owner=pg_owner_url, migrate_first=False, hasher=FAST_HASHER,
                              providers=gateways) as two:
        app_a, app_b = create_app(settings, one), create_app(settings, two)
        a, b = TestClient(TestServer(app_a)), TestClient(TestServer(app_b))
        await a.start_server()
        await b.start_server()
        ours, theirs = await make_team(one), await make_team(one)
        try:
            yield Servers(a, b, one, ours, theirs)
        finally:
            await drain(app_b)
            async with one.uows.for_team(ours.team_id) as uow:
                accounts = await uow.accounts.list()
            for account in accounts:
                await one.connections.remove(ours.actor, account.id)
            await a.close()
            await b.close()


async def test_a_webhook_on_one_server_reaches_the_team_on_the_other_within_a_second(servers: Servers) -> None:
    key = await servers.account()
    async with servers.subscribe(servers.ours) as mine, servers.subscribe(servers.theirs) as other:
        wamid = f"wamid.{uuid.uuid4().hex}"
        started = time.monotonic()
        answered = await post_meta(servers.b, META_PATHS["whatsapp_cloud"], text_payload(key, wamid))
        assert answered.status == 200
        first = await mine.next_data(1.0)
        second = await mine.next_data(max(1.0 - (time.monotonic() - started), 0.001))
        assert time.monotonic() - started < 1.0
        assert [first.data["json"]["kind"], second.data["json"]["kind"]] == ["thread.opened", "message.received"]
        assert first.id and second.id and first.id != second.id
        with pytest.raises(TimeoutError):
            await other.next_data(0.5)


async def test_a_reconnect_with_the_last_event_id_gets_what_it_missed(servers: Servers) -> None:
    key = await servers.account()
    async with servers.subscribe(servers.ours) as first:
        await post_meta(servers.b, META_PATHS["whatsapp_cloud"], text_payload(key, f"wamid.{uuid.uuid4().hex}"))
        last = [await first.next_data(2), await first.next_data(2)][-1]
    wamid = f"wamid.{uuid.uuid4().hex}"
    await post_meta(servers.b, META_PATHS["whatsapp_cloud"], text_payload(key, wamid))
    async with servers.subscribe(servers.ours, lastEventId=last.id) as again:
        missed = await again.next_data(2)
        assert missed.data["json"]["kind"] == "message.received"


async def test_the_stream_needs_credentials_and_a_team_of_ones_own(servers: Servers) -> None:
    query = {"input": json.dumps({"json": {"teamId": servers.ours.team_id}})}
    anonymous = await servers.a.get(PATH, params=query)
    assert anonymous.status == 401
    api = await Api(servers.a).login(servers.theirs.email, PASSWORD)
    foreign = await servers.a.get(PATH, params=query, headers={"Authorization": f"Bearer {api.token}"})
    assert foreign.status == 404 and (await foreign.json())["error"]["json"]["data"]["code"] == "NOT_FOUND"
    posted = await servers.a.post(PATH, json={}, headers={"Authorization": f"Bearer {api.token}"})
    assert posted.status == 405

