"""Living documentation of when a reply may go out: features/quiet_hours.feature and messaging_window.feature."""
from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import parse
import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from commsinbox.adapters.clock import FixedClock
from commsinbox.domain.model.accounts import AccountStatus, CommunicationAccount
from commsinbox.domain.model.channels import Direction, MessageType, Provider
from commsinbox.domain.model.errors import PolicyBlocked
from commsinbox.domain.model.inbound import ContactRef, InboundMessage
from commsinbox.domain.model.labels import ThreadFilter
from commsinbox.domain.model.paging import PageRequest
from commsinbox.domain.policies.decision import Allowed, Deferred
from commsinbox.domain.usecases.outbound import Queued, SendRequest
from commsinbox.domain.usecases.teams import TeamChanges
from tests.bdd.conftest import TYPES, Inbox, Run, _one_of
from tests.support.sending import outbound_at

scenarios("quiet_hours.feature", "messaging_window.feature")

PROVIDERS = {"WhatsApp Cloud": Provider.WHATSAPP_META, "Twilio": Provider.WHATSAPP_TWILIO,
             "Instagram": Provider.INSTAGRAM_META, "WhatsApp Web": Provider.WHATSAPP_BAILEYS}


def _elapsed(text: str) -> dt.timedelta:
    days, hours, minutes = re.fullmatch(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?", text).groups()  # type: ignore[union-attr]
    return dt.timedelta(days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0))


STEP_TYPES = {
    **TYPES,
    "Provider": _one_of(PROVIDERS, PROVIDERS.__getitem__),
    "Time": parse.with_pattern(r"\d{4}-\d\d-\d\d \d\d:\d\d")(lambda text: dt.datetime.fromisoformat(text)),
    "Elapsed": parse.with_pattern(r"(?:\d+d)?(?:\d+h)?(?:\d+m)?")(_elapsed),
    "Phone": parse.with_pattern(r"\+[0-9]{8,15}")(lambda text: text),
}


def step(text: str) -> parsers.parse:
    return parsers.parse(text, extra_types=STEP_TYPES)


@attrs.define
class Customer:
    team: str
    thread_id: str | None = None


class SendingDesk:
    """Teams with a time zone, customers who wrote at a given time, and agents replying at a given time on a clock
    the scenario sets. Times in steps are on the team's wall clock."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox, self.services = inbox, inbox.services
        self.clock = FixedClock()
        self.outbound = outbound_at(self.services, self.clock)
        self.zones: dict[str, ZoneInfo] = {}
        self.customers: dict[str, Customer] = {}
        self.reply: Queued | None = None
        self.refusal: PolicyBlocked | None = None
        self.replied_to: Customer | None = None

    async def create_team(self, team: str, owner: str, zone: str, quiet_hours: str) -> None:
        await self.inbox.create_team(team, owner)
        await self.services.teams.update(await self.founder(team), TeamChanges(timezone=zone, quiet_hours=quiet_hours))
        self.zones[team] = ZoneInfo(zone)

    async def founder(self, team: str) -> Any:
        return await self.actor(self.inbox.founders[team], team)

    async def actor(self, user: str, team: str | None = None) -> Any:
        team = team or self.inbox.homes[user]
        return await self.services.access.resolve(self.inbox.user_ids[user], self.inbox.team_ids[team])

    def local(self, team: str, wall: dt.datetime) -> dt.datetime:
        return wall.replace(tzinfo=self.zones[team]).astimezone(dt.UTC)

    async def wrote(self, customer: str, team: str, at: dt.datetime, provider: Provider,
                    phone: str | None = None) -> None:
        """`customer` wrote to `team` through `provider` at the UTC instant `at`, on an account of its own."""
        founder = await self.founder(team)
        account = CommunicationAccount(str(uuid.uuid4()), founder.team_id, provider,  # type: ignore[arg-type]
                                       f"acct-{uuid.uuid4().hex[:12]}", team, AccountStatus.ACTIVE, at)
        async with self.services.uows.for_team(founder.team_id) as uow:
            await uow.accounts.add(account)
            await uow.commit()
        external = phone[1:] if phone else f"igsid-{uuid.uuid4().hex[:12]}"
        await self.services.ingest.ingest([InboundMessage(
            provider, account.external_id, f"mid.{uuid.uuid4().hex}", ContactRef(external, phone, customer),
            MessageType.TEXT, at, text="hello")])
        page = await self.services.inbox.list(founder, ThreadFilter(account_id=account.id), PageRequest())
        [view] = page.items
        self.customers[customer] = Customer(team, str(view.thread.id))

    async def replies(self, user: str, customer: str, at: dt.datetime) -> None:
        self.clock.current, self.reply, self.refusal = at, None, None
        self.replied_to = self.customers[customer]
        thread_id = self.replied_to.thread_id
        assert thread_id is not None
        try:
            self.reply = await self.outbound.send(await self.actor(user), SendRequest(
                thread_id, f"reply-{uuid.uuid4().hex}", "Thank you, we are on it"))
        except PolicyBlocked as refusal:
            self.refusal = refusal

    async def our_messages(self) -> int:
        """How many messages of ours the thread replied to holds, as its team's founder sees it."""
        assert self.replied_to is not None and self.replied_to.thread_id is not None
        founder = await self.founder(self.replied_to.team)
        page = await self.outbound.list(founder, self.replied_to.thread_id, PageRequest())
        return sum(1 for view in page.items if view.message.direction is Direction.OUT)

    def sent_now(self) -> Queued:
        assert self.refusal is None, f"the reply was refused: {self.refusal.reason}"
        assert self.reply is not None and isinstance(self.reply.decision, Allowed), self.reply
        assert self.reply.message.send_after == self.clock.now()
        return self.reply

    def waits_until(self, wall: dt.datetime) -> dt.datetime:
        assert self.refusal is None, f"the reply was refused: {self.refusal.reason}"
        assert self.reply is not None and isinstance(self.reply.decision, Deferred), self.reply
        assert self.reply.decision.rule == "quiet_hours"
        assert self.replied_to is not None
        until = self.local(self.replied_to.team, wall)
        assert self.reply.decision.until == until == self.reply.message.send_after
        return until


@pytest.fixture
def desk(inbox: Inbox) -> SendingDesk:
    return SendingDesk(inbox)


## Given

@given(step('a team "{team:Name}" owned by "{owner:Name}" in "{zone:Name}" with quiet hours {hours}'))
def _team(run: Run[None], desk: SendingDesk, team: str, owner: str, zone: str, hours: str) -> None:
    run(desk.create_team(team, owner, zone, hours))


@given(step('"{team:Name}" gives replies {minutes:d} minutes of grace'))
def _grace(run: Run[Any], desk: SendingDesk, team: str, minutes: int) -> None:
    run(desk.services.teams.update(run(desk.founder(team)), TeamChanges(reply_grace_minutes=minutes)))


@given(step('"{customer:Name}" from "{phone:Phone}" wrote to "{team:Name}" at {at:Time}'))
def _wrote_at(run: Run[None], desk: SendingDesk, customer: str, phone: str, team: str, at: dt.datetime) -> None:
    run(desk.wrote(customer, team, desk.local(team, at), Provider.WHATSAPP_META, phone))


@given(step('"{customer:Name}" wrote to "{team:Name}" through {provider:Provider} {elapsed:Elapsed} before {at:Time}'))
def _wrote_before(run: Run[None], desk: SendingDesk, customer: str, team: str, provider: Provider,
                  elapsed: dt.timedelta, at: dt.datetime) -> None:
    phone = None if provider is Provider.INSTAGRAM_META else "+447700900123"  # a number placed in no time zone
    run(desk.wrote(customer, team, desk.local(team, at) - elapsed, provider, phone))


## When

@when(step('"{user:Name}" replies to "{customer:Name}" at {at:Time}'))
def _replies(run: Run[None], desk: SendingDesk, user: str, customer: str, at: dt.datetime) -> None:
    run(desk.replies(user, customer, desk.local(desk.customers[customer].team, at)))


## Then

@then(step("the reply goes out now"))
def _now(desk: SendingDesk) -> None:
    assert "tag" not in desk.sent_now().message.meta


@then(step("the reply goes out now tagged {tag}"))
def _now_tagged(desk: SendingDesk, tag: str) -> None:
    reply = desk.sent_now()
    assert reply.decision == Allowed(tag) and reply.message.meta["tag"] == tag


@then(step("the reply waits until {until:Time}"))
def _waits(desk: SendingDesk, until: dt.datetime) -> None:
    desk.waits_until(until)


@then(step("the reply waits {hours:d} hours, until {until:Time}"))
def _waits_hours(desk: SendingDesk, hours: int, until: dt.datetime) -> None:
    assert desk.waits_until(until) - desk.clock.now() == dt.timedelta(hours=hours)


@then(step("the reply is refused for {reason}"))
def _refused(run: Run[int], desk: SendingDesk, reason: str) -> None:
    assert desk.refusal is not None and desk.refusal.reason == reason, desk.reply
    assert run(desk.our_messages()) == 0
