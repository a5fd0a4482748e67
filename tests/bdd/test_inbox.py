"""Living documentation of the agent's daily work: features/inbox.feature."""
from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import uuid
from typing import Any

import attrs
import pytest
from pytest_bdd import given, scenarios, then, when

from commsinbox.adapters.clock import FixedClock
from commsinbox.domain.model.accounts import AccountStatus, CommunicationAccount
from commsinbox.domain.model.channels import MessageType, Provider
from commsinbox.domain.model.inbound import ContactRef, InboundMessage
from commsinbox.domain.model.labels import RecordType, ThreadFilter, ThreadLink
from commsinbox.domain.model.paging import PageRequest
from commsinbox.domain.usecases.access import Actor
from commsinbox.domain.usecases.teams import TeamChanges
from commsinbox.ports.messaging import OutboxEntry
from tests.bdd.conftest import Inbox, Run, step

scenarios("inbox.feature")
_phones = itertools.count(1000)


class InboxDesk:
    """The inbox driver's teams and users, plus customers who write in and a clock the scenario moves."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox, self.services = inbox, inbox.services
        self.clock = FixedClock(dt.datetime.now(dt.UTC).replace(microsecond=0))
        self.threads = attrs.evolve(self.services.inbox, clock=self.clock)
        self.accounts: dict[str, str] = {}
        self.customers: dict[str, tuple[str, str]] = {}  # name → (team, phone)
        self.labels: dict[tuple[str, str], str] = {}
        self.streams: dict[str, asyncio.Queue[OutboxEntry]] = {}
        self._readers: list[asyncio.Task[None]] = []

    async def watch(self, user: str) -> None:
        """Reads `user`'s live stream into a queue from a task of its own, as a connected client would."""
        received: asyncio.Queue[OutboxEntry] = asyncio.Queue()
        stream = self.services.live.stream(await self.actor(user))

        async def read() -> None:
            async for entry in stream:
                await received.put(entry)

        self.streams[user] = received
        self._readers.append(asyncio.get_running_loop().create_task(read()))
        await asyncio.sleep(0.2)  # the stream has taken its position

    async def actor(self, user: str, team: str | None = None) -> Actor:
        team = team or self.inbox.homes[user]
        return await self.services.access.resolve(self.inbox.user_ids[user], self.inbox.team_ids[team])

    async def writes(self, customer: str, team: str | None = None, count: int = 1, text: str = "hello") -> None:
        team, phone = self.customers.setdefault(customer, (team or "", f"+1555{next(_phones):07d}"))
        key = self.accounts.get(team) or await self._connect(team)
        await self.services.ingest.ingest([InboundMessage(
            Provider.WHATSAPP_META, key, f"wamid.{uuid.uuid4().hex}", ContactRef(phone[1:], phone, customer),
            MessageType.TEXT, self.clock.now(), text=text) for _ in range(count)])

    async def _connect(self, team: str) -> str:
        founder = await self.actor(self.inbox.founders[team], team)
        account = CommunicationAccount(str(uuid.uuid4()), founder.team_id, Provider.WHATSAPP_META,  # type: ignore[arg-type]
                                       f"pn-{uuid.uuid4().hex[:12]}", team, AccountStatus.ACTIVE, self.clock.now())
        async with self.services.uows.for_team(founder.team_id) as uow:
            await uow.accounts.add(account)
            await uow.commit()
        self.accounts[team] = account.external_id
        return account.external_id

    async def thread_of(self, customer: str) -> Any:
        team, phone = self.customers[customer]
        page = await self.threads.list(await self.actor(self.inbox.founders[team], team), ThreadFilter(), PageRequest())
        return next(v.thread for v in page.items if v.contact.phone == phone)

    async def attempt(self, user: str, call: Any) -> None:
        await self.inbox.attempt_call(await self.actor(user), call)

    async def customers_of(self, user: str, where: ThreadFilter) -> list[str]:
        page = await self.threads.list(await self.actor(user), where, PageRequest())
        phones = {v.contact.phone for v in page.items}
        return sorted(name for name, (_, phone) in self.customers.items() if phone in phones)


@pytest.fixture
def desk(inbox: Inbox) -> InboxDesk:
    return InboxDesk(inbox)


## Given

@given(step('"{customer:Name}" wrote to "{team:Name}"'))
def _wrote(run: Run[None], desk: InboxDesk, customer: str, team: str) -> None:
    run(desk.writes(customer, team))


@given(step('"{team:Name}" shows agents only their own threads'))
def _own_only(run: Run[Any], desk: InboxDesk, team: str) -> None:
    founder = run(desk.actor(desk.inbox.founders[team], team))
    run(desk.services.teams.update(founder, TeamChanges(agents_see_unassigned=False)))


@given(step('"{user:Name}" watches the live stream'))
def _watches(run: Run[None], desk: InboxDesk, user: str) -> None:
    run(desk.watch(user))


@given(step('"{team:Name}" has the label "{name:Name}"'))
def _label(run: Run[Any], desk: InboxDesk, team: str, name: str) -> None:
    label = run(desk.services.labels.create(run(desk.actor(desk.inbox.founders[team], team)), name))
    desk.labels[team, name] = label.id


## When

@when(step('"{user:Name}" assigns the thread of "{customer:Name}" to "{member:Name}"'))
def _assign(run: Run[None], desk: InboxDesk, user: str, customer: str, member: str) -> None:
    thread, member_id = run(desk.thread_of(customer)), desk.inbox.user_ids[member]
    run(desk.attempt(user, lambda actor: desk.threads.assign(actor, thread.id, member_id)))


@when(step('"{customer:Name}" writes {count:d} more messages'))
def _writes(run: Run[None], desk: InboxDesk, customer: str, count: int) -> None:
    desk.clock.advance(dt.timedelta(minutes=1))
    run(desk.writes(customer, count=count))


@when(step('"{customer:Name}" writes again'))
def _writes_again(run: Run[None], desk: InboxDesk, customer: str) -> None:
    _writes(run, desk, customer, 1)


@when(step('"{customer:Name}" writes "{words}"'))
def _writes_words(run: Run[None], desk: InboxDesk, customer: str, words: str) -> None:
    desk.clock.advance(dt.timedelta(minutes=1))
    run(desk.writes(customer, text=words))


@when(step('"{user:Name}" marks the thread of "{customer:Name}" read'))
def _read(run: Run[None], desk: InboxDesk, user: str, customer: str) -> None:
    thread = run(desk.thread_of(customer))
    run(desk.attempt(user, lambda actor: desk.threads.mark_read(actor, thread.id)))


@when(step('"{user:Name}" snoozes the thread of "{customer:Name}" for {hours:d} hours'))
def _snooze(run: Run[None], desk: InboxDesk, user: str, customer: str, hours: int) -> None:
    thread, until = run(desk.thread_of(customer)), desk.clock.now() + dt.timedelta(hours=hours)
    run(desk.attempt(user, lambda actor: desk.threads.set_status(actor, thread.id, "snoozed", until)))


@when(step("{minutes:d} minutes pass"))
def _pass(desk: InboxDesk, minutes: int) -> None:
    desk.clock.advance(dt.timedelta(minutes=minutes))


@when(step('"{user:Name}" labels the thread of "{customer:Name}" "{name:Name}"'))
def _apply(run: Run[None], desk: InboxDesk, user: str, customer: str, name: str) -> None:
    thread, label = run(desk.thread_of(customer)), desk.labels[desk.inbox.homes[user], name]
    run(desk.attempt(user, lambda actor: desk.services.labels.apply(actor, label, thread.id)))


@when(step('"{user:Name}" creates the label "{name:Name}"'))
def _create_label(run: Run[None], desk: InboxDesk, user: str, name: str) -> None:
    run(desk.attempt(user, lambda actor: desk.services.labels.create(actor, name)))


@when(step('"{user:Name}" links the thread of "{customer:Name}" to the client "{client:Name}" of "{team:Name}"'))
def _link(run: Run[None], desk: InboxDesk, user: str, customer: str, client: str, team: str) -> None:
    thread, client_id = run(desk.thread_of(customer)), desk.inbox.records[team, "client", client]
    run(desk.attempt(user, lambda actor: desk.threads.link(actor, thread.id, "client", client_id)))


## Then

@then(step('the threads assigned to "{user:Name}" are {names:Names}'))
def _assigned(run: Run[list[str]], desk: InboxDesk, user: str, names: list[str]) -> None:
    assert run(desk.customers_of(user, ThreadFilter(assignee_id=desk.inbox.user_ids[user]))) == sorted(names)


@then(step('"{user:Name}" sees the threads of {names:Names}'))
def _sees(run: Run[list[str]], desk: InboxDesk, user: str, names: list[str]) -> None:
    assert run(desk.customers_of(user, ThreadFilter())) == sorted(names)


@then(step('within a second "{user:Name}" is told of a {kind}'))
def _told(run: Run[Any], desk: InboxDesk, user: str, kind: str) -> None:
    async def next_of_kind() -> OutboxEntry:
        while (entry := await desk.streams[user].get()).kind != kind:
            pass
        return entry

    assert run(asyncio.wait_for(next_of_kind(), 1.0)).kind == kind


@then(step('"{user:Name}" is told nothing'))
def _told_nothing(run: Run[None], desk: InboxDesk, user: str) -> None:
    run(asyncio.sleep(0.3))
    assert desk.streams[user].empty()


@then(step('searching "{query}" finds {names:Names}'))
def _search_finds(run: Run[list[str]], desk: InboxDesk, query: str, names: list[str]) -> None:
    assert run(desk.customers_of("Max", ThreadFilter(query=query))) == sorted(names)


@then(step('searching "{query}" finds nobody'))
def _search_nobody(run: Run[list[str]], desk: InboxDesk, query: str) -> None:
    assert run(desk.customers_of("Max", ThreadFilter(query=query))) == []


@then(step('the thread of "{customer:Name}" has {count:d} unread messages'))
def _unread(run: Run[Any], desk: InboxDesk, customer: str, count: int) -> None:
    assert run(desk.thread_of(customer)).unread_count == count


@then(step('the thread of "{customer:Name}" is {status:Name}'))
def _status(run: Run[Any], desk: InboxDesk, customer: str, status: str) -> None:
    assert run(desk.thread_of(customer)).status.value == status


@then(step('the threads labelled "{name:Name}" are {names:Names}'))
def _labelled(run: Run[list[str]], desk: InboxDesk, name: str, names: list[str]) -> None:
    team = next(t for t, n in desk.labels if n == name)
    where = ThreadFilter(label_ids=(desk.labels[team, name],))
    assert run(desk.customers_of(desk.inbox.founders[team], where)) == sorted(names)


@then(step('the threads of the client "{client:Name}" of "{team:Name}" are {names:Names}'))
def _of_client(run: Run[list[str]], desk: InboxDesk, client: str, team: str, names: list[str]) -> None:
    where = ThreadFilter(link=ThreadLink(RecordType.CLIENT, desk.inbox.records[team, "client", client]))
    assert run(desk.customers_of(desk.inbox.founders[team], where)) == sorted(names)
