"""The live stream on both adapters: a team's changes reach its members in order, and only what each may see."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from commsinbox.domain.model import events
from commsinbox.domain.model.errors import Forbidden, InvalidInput
from commsinbox.domain.model.values import Permission, Role
from commsinbox.domain.usecases.access import Actor
from commsinbox.domain.usecases.teams import TeamChanges
from commsinbox.entrypoints.container import Services
from commsinbox.ports.messaging import OutboxEntry
from tests.conftest import join, make_team
from tests.contracts.test_inbox import threads_of
from tests.contracts.test_ingest import connect, text

pytestmark = pytest.mark.integration
QUIET = 0.3  # how long "nothing arrives" is watched for


class Subscriber:
    """A stream read by a background task, as an SSE connection would."""

    def __init__(self, services: Services, actor: Actor, after: str | None = None) -> None:
        self.stream: AsyncIterator[OutboxEntry] = services.live.stream(actor, after)
        self.received: asyncio.Queue[OutboxEntry] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Subscriber:
        self.task = asyncio.create_task(self._read())
        await asyncio.sleep(0.2)  # listening and positioned at the end of the outbox
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    async def _read(self) -> None:
        async for entry in self.stream:
            await self.received.put(entry)

    async def next(self, timeout: float = 1.0) -> OutboxEntry:
        return await asyncio.wait_for(self.received.get(), timeout)

    async def nothing(self) -> bool:
        await asyncio.sleep(QUIET)
        return self.received.empty()


async def test_a_new_message_reaches_the_team_within_a_second_and_no_other_team(services: Services) -> None:
    ours, theirs = await make_team(services), await make_team(services)
    key = await connect(services, ours)
    async with Subscriber(services, ours.actor) as mine, Subscriber(services, theirs.actor) as other:
        await services.ingest.ingest([text(key, body="hello")])
        kinds = [(await mine.next()).kind, (await mine.next()).kind]
        assert kinds == [events.THREAD_OPENED, events.MESSAGE_RECEIVED]
        assert await other.nothing()


async def test_events_arrive_in_order_and_a_reconnect_resumes_after_the_last_one(services: Services) -> None:
    owner = await make_team(services)
    key = await connect(services, owner)
    async with Subscriber(services, owner.actor) as first:
        await services.ingest.ingest([text(key, body="one")])
        await first.next()
        last = await first.next()
    await services.ingest.ingest([text(key, body="two", minutes=1)])
    await services.ingest.ingest([text(key, body="three", minutes=2)])
    async with Subscriber(services, owner.actor, after=last.position) as again:
        resumed = [await again.next(), await again.next()]
        assert [e.kind for e in resumed] == [events.MESSAGE_RECEIVED] * 2
        assert [e.payload["threadId"] for e in resumed] == [last.payload["threadId"]] * 2
        assert await again.nothing()


async def test_agents_get_events_only_of_threads_they_see(services: Services) -> None:
    owner = await make_team(services)
    agent, other_agent = await join(services, owner, Role.AGENT), await join(services, owner, Role.AGENT)
    key = await connect(services, owner)
    await services.ingest.ingest([text(key, wa_id="15550001", phone="+15550001", body="a")])
    [thread] = await threads_of(services, owner)
    await services.inbox.assign(owner.actor, thread.thread.id, other_agent.user_id)
    async with Subscriber(services, agent.actor) as watching, Subscriber(services, owner.actor) as manager:
        await services.ingest.ingest([text(key, wa_id="15550001", phone="+15550001", body="b", minutes=1)])
        assert (await manager.next()).kind == events.MESSAGE_RECEIVED
        assert await watching.nothing()
        await services.inbox.assign(owner.actor, thread.thread.id, None)  # unassigned: every agent sees it
        assert (await watching.next()).kind == events.THREAD_ASSIGNED
        await services.teams.update(owner.actor, TeamChanges(agents_see_unassigned=False))
        await services.ingest.ingest([text(key, wa_id="15550001", phone="+15550001", body="c", minutes=2)])
        assert (await manager.next()).kind == events.THREAD_ASSIGNED
        assert (await manager.next()).kind == events.MESSAGE_RECEIVED
        assert await watching.nothing()


async def test_a_removed_member_stops_receiving(services: Services) -> None:
    owner = await make_team(services)
    agent = await join(services, owner, Role.AGENT)
    key = await connect(services, owner)
    stream = services.live.stream(agent.actor)
    reading = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.2)
    await services.teams.remove(owner.actor, agent.user_id)
    await services.ingest.ingest([text(key, body="after removal")])
    with pytest.raises(Forbidden):
        await asyncio.wait_for(reading, 2)


async def test_a_position_never_given_out_is_refused(services: Services) -> None:
    owner = await make_team(services)
    with pytest.raises(InvalidInput) as refused:
        await anext(services.live.stream(owner.actor, after="not-a-position"))
    assert refused.value.fields[0].path == "lastEventId"


async def test_without_inbox_read_there_is_no_stream(services: Services) -> None:
    owner = await make_team(services)
    viewer = await services.teams.invite(owner.actor, "viewer-" + owner.email, Role.CUSTOM,
                                         frozenset({Permission.TEAM_READ}))
    with pytest.raises(Forbidden):
        services.live.stream(await services.access.resolve(viewer.membership.user_id, owner.team_id))
