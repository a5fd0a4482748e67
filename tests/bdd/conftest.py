"""The shared BDD vocabulary: the `run` and `inbox` fixtures, the parameter types and the steps.

Steps stay thin: each calls the `inbox` driver, a façade over the use cases that knows users and
teams by the names the features give them. The driver is async (the product is); pytest-bdd steps
are not, so they hand its coroutines to `run`, one `asyncio.Runner` per scenario. Nothing here is
an async fixture or an async test, so pytest-asyncio (auto mode) leaves these tests alone.
"""
from __future__ import annotations

import asyncio
import contextlib
import enum
import re
import uuid
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import parse
import pytest
from pytest_bdd import given, parsers, then, when

from commsinbox.domain.model.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from commsinbox.domain.model.ids import TeamId, UserId
from commsinbox.domain.model.paging import PageRequest
from commsinbox.domain.model.values import Permission, Role
from commsinbox.domain.usecases.access import Actor
from commsinbox.domain.usecases.clients import ClientFields
from commsinbox.domain.usecases.records import RecordFields
from commsinbox.domain.usecases.teams import TeamChanges
from commsinbox.entrypoints.container import Services, memory_services, postgres_services
from tests.conftest import FAST_HASHER, settings_for
from tests.support.factories import PASSWORD, random_email, random_suffix, random_team_name

T = TypeVar("T")
Run = Callable[[Coroutine[Any, Any, T]], T]


class In(enum.Enum):
    """Which team an attempt names, besides a team's own name."""

    HOME = "the first team the user joined"
    UNSAID = "no team at all"
    MISSING = "a team that does not exist"


class Inbox:
    """Drives the use cases as named users of named teams, and remembers the last attempt's outcome.

    Arranging (Given) acts as each team's founder and lets errors escape; attempting (When) records
    a refusal instead of raising it; observing (Then) reads state back through the use cases.
    """

    def __init__(self, services: Services) -> None:
        self.services = services
        self.emails: dict[str, str] = {}
        self.user_ids: dict[str, UserId] = {}
        self.team_ids: dict[str, TeamId] = {}
        self.founders: dict[str, str] = {}
        self.homes: dict[str, str] = {}
        self.records: dict[tuple[str, str, str], str] = {}
        self.last_client: dict[str, str] = {}
        self.result: Any = None
        self.error: DomainError | None = None

    # -- arranging ---------------------------------------------------------------------------------

    async def create_team(self, team: str, owner: str) -> None:
        assert owner not in self.user_ids, f"{owner} already has an account; found a team with a new user"
        user, team_id = await self.services.accounts.create_user(
            self._email(owner), PASSWORD, team=random_team_name(team))
        assert team_id is not None
        self.user_ids[owner], self.team_ids[team], self.founders[team] = user.id, team_id, owner
        self.homes.setdefault(owner, team)

    async def add_member(self, team: str, user: str, role: Role,
                         permissions: frozenset[Permission] = frozenset()) -> None:
        await self._account(user)
        await self.services.teams.invite(await self._founder(team), self._email(user), role, permissions)
        self.homes.setdefault(user, team)

    async def add_owners(self, team: str, count: int) -> None:
        """Brings the team to `count` owners, the founder included."""
        for _ in range(count - 1):
            await self.add_member(team, f"co-owner {random_suffix()}", Role.OWNER)

    async def add_client(self, team: str, name: str) -> None:
        client = await self.services.clients.create(await self._founder(team), ClientFields(name))
        self.records[team, "client", name] = client.id
        self.last_client[team] = name

    async def add_record(self, team: str, kind: str, number: str) -> None:
        record = await self.services.records.create(await self._founder(team), kind,  # type: ignore[arg-type]
                                                    RecordFields(number=number))
        self.records[team, kind, number] = record.id

    async def leave(self, user: str, team: str) -> None:
        actor = await self.services.access.resolve(self.user_ids[user], self.team_ids[team])
        await self.services.teams.remove(actor, actor.user_id)

    # -- attempting --------------------------------------------------------------------------------

    async def attempt(self, user: str, action: str, team: str | In = In.HOME, **details: Any) -> None:
        """`user` tries `action` (a method below) acting in `team`; keeps its result or domain error."""
        self.result, self.error = None, None
        try:
            actor = await self.services.access.resolve(await self._account(user), self._team_id(user, team))
            self.result = await getattr(self, f"_{action}")(actor, **details)
        except DomainError as error:
            self.error = error

    async def attempt_call(self, actor: Actor, call: Callable[[Actor], Coroutine[Any, Any, Any]]) -> None:
        """Runs `call(actor)`, keeping its result or domain error for the shared `it is …` step."""
        self.result, self.error = None, None
        try:
            self.result = await call(actor)
        except DomainError as error:
            self.error = error

    async def _update_the_team_settings(self, actor: Actor) -> Any:
        return await self.services.teams.update(actor, TeamChanges(timezone="America/Sao_Paulo"))

    async def _invite_a_member(self, actor: Actor) -> Any:
        return await self.services.teams.invite(actor, random_email("invited"), Role.AGENT)

    async def _create_a_client(self, actor: Actor) -> Any:
        return await self.services.clients.create(actor, ClientFields(f"client {random_suffix()}"))

    async def _delete_a_client(self, actor: Actor) -> Any:
        team = self._team_name(actor.team_id)
        return await self._delete_the_client(actor, self.last_client[team], team)

    async def _delete_the_client(self, actor: Actor, name: str, of: str) -> Any:
        return await self.services.clients.delete(actor, self.records[of, "client", name])

    async def _create_an_order(self, actor: Actor) -> Any:
        return await self._create_numbered(actor, "order", f"order-{random_suffix()}")

    async def _create_numbered(self, actor: Actor, kind: str, number: str) -> Any:
        return await self.services.records.create(actor, kind, RecordFields(number=number))  # type: ignore[arg-type]

    async def _list_the_clients(self, actor: Actor) -> Any:
        return await self.services.clients.list(actor, PageRequest())

    async def _list_the_orders(self, actor: Actor) -> Any:
        return await self.services.records.list(actor, "order", PageRequest())

    async def _open_the_record(self, actor: Actor, kind: str, name: str, of: str) -> Any:
        id = self.records[of, kind, name]
        if kind == "client":
            return await self.services.clients.get(actor, id)
        return await self.services.records.get(actor, kind, id)  # type: ignore[arg-type]

    async def _open_the_team(self, actor: Actor) -> Any:
        return await self.services.teams.get(actor)

    async def _leave_the_team(self, actor: Actor) -> Any:
        return await self.services.teams.remove(actor, actor.user_id)

    async def _become_a_manager(self, actor: Actor) -> Any:
        return await self.services.teams.set_role(actor, actor.user_id, Role.MANAGER)

    async def _invite(self, actor: Actor, member: str, role: Role,
                      permissions: frozenset[Permission] = frozenset()) -> Any:
        return await self.services.teams.invite(actor, self._email(member), role, permissions)

    async def _make(self, actor: Actor, member: str, role: Role) -> Any:
        return await self.services.teams.set_role(actor, self.user_ids[member], role)

    async def _remove(self, actor: Actor, member: str) -> Any:
        return await self.services.teams.remove(actor, self.user_ids[member])

    # -- observing ---------------------------------------------------------------------------------

    def expect(self, error: type[DomainError] | None) -> None:
        """The last attempt succeeded (`None`) or failed with exactly this kind of error."""
        wanted = error.__name__ if error else "success"
        assert type(self.error) is (error or type(None)), f"expected {wanted}, got {self.error!r}"

    def listed(self) -> list[str]:
        """The names (clients) or numbers (records) on the page the last attempt listed."""
        return sorted(getattr(item, "name", None) or item.number for item in self.result.items)

    async def role_of(self, user: str, team: str) -> Role | None:
        members = await self.services.teams.members(await self._founder(team, may_have_left=True))
        return next((m.membership.role for m in members if m.email == self._email(user)), None)

    async def finds(self, user: str, kind: str, name: str, of: str) -> bool:
        await self.attempt(user, "open_the_record", kind=kind, name=name, of=of)
        return self.error is None

    # -- helpers -----------------------------------------------------------------------------------

    def _email(self, user: str) -> str:
        return self.emails.setdefault(user, random_email(re.sub(r"\W+", "-", user.lower())))

    async def _account(self, user: str) -> UserId:
        if user not in self.user_ids:
            self.user_ids[user] = (await self.services.accounts.create_user(self._email(user), PASSWORD))[0].id
        return self.user_ids[user]

    async def _founder(self, team: str, *, may_have_left: bool = False) -> Actor:
        """The team's founder, or (once the founder has left) any remaining owner."""
        team_id = self.team_ids[team]
        for name in [self.founders[team], *self.user_ids] if may_have_left else [self.founders[team]]:
            with contextlib.suppress(NotFound):
                actor = await self.services.access.resolve(self.user_ids[name], team_id)
                if actor.membership.role is Role.OWNER:
                    return actor
        raise AssertionError(f"{team} has no owner the driver knows")

    def _team_id(self, user: str, team: str | In) -> TeamId | None:
        if team is In.UNSAID:
            return None
        if team is In.MISSING:
            return TeamId(str(uuid.uuid4()))
        return self.team_ids[self.homes[user] if team is In.HOME else team]

    def _team_name(self, team_id: TeamId) -> str:
        return next(name for name, id in self.team_ids.items() if id == team_id)


# -- parameter types -------------------------------------------------------------------------------

ACTIONS = ("update the team settings", "invite a member", "create a client", "delete a client",
           "create an order", "list the clients", "list the orders", "leave the team", "become a manager")
OUTCOMES: dict[str, type[DomainError] | None] = {
    "allowed": None, "refused": Forbidden, "not found": NotFound, "a conflict": Conflict, "invalid": InvalidInput}


def _one_of(words: Any, convert: Callable[[str], Any]) -> Callable[[str], Any]:
    """A parse type matching one of `words` (longest first), converted by `convert`."""
    pattern = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return parse.with_pattern(pattern)(lambda text: convert(text))


TYPES = {
    "Name": parse.with_pattern(r'[^"]+')(lambda text: text),
    "Names": parse.with_pattern(r'"[^"]+"(?:(?:, | and )"[^"]+")*')(lambda text: re.findall(r'"([^"]+)"', text)),
    "Action": _one_of(ACTIONS, lambda text: re.sub(r"\W+", "_", text)),
    "Outcome": _one_of(OUTCOMES, OUTCOMES.__getitem__),
    "Role": _one_of(["an owner", "a manager", "an agent"], lambda text: Role(text.split()[-1])),
    "Kind": _one_of(["a client", "an order", "an invoice", "client", "order", "invoice"],
                    lambda text: text.split()[-1]),
    "Permissions": parse.with_pattern(r"[a-z.]+(?:, [a-z.]+)*")(
        lambda text: frozenset(Permission(p) for p in text.split(", "))),
}


def step(text: str) -> parsers.parse:
    return parsers.parse(text, extra_types=TYPES)


# -- fixtures --------------------------------------------------------------------------------------

@pytest.fixture
def run() -> Iterator[Run[Any]]:
    """Runs the driver's coroutines on one event loop per scenario, which is never made the current loop."""
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        yield runner.run


@pytest.fixture
def inbox(request: pytest.FixtureRequest, run: Run[Any], tmp_path: Path) -> Iterator[Inbox]:
    """The driver over fresh in-memory services, or over the session's PostgreSQL with --backend=postgres."""
    if request.config.getoption("--backend") == "memory":
        yield Inbox(memory_services(hasher=FAST_HASHER))
        return
    owner = request.getfixturevalue("pg_owner_url")
    stack = contextlib.AsyncExitStack()
    services = run(stack.enter_async_context(postgres_services(
        settings_for(tmp_path, owner), owner=owner, migrate_first=False, hasher=FAST_HASHER)))
    try:
        yield Inbox(services)
    finally:
        run(stack.aclose())


## Given

@given(step('a team "{team:Name}" owned by "{owner:Name}"'))
def _team(run: Run[None], inbox: Inbox, team: str, owner: str) -> None:
    run(inbox.create_team(team, owner))


@given(step('"{user:Name}" is {role:Role} of "{team:Name}"'))
def _member(run: Run[None], inbox: Inbox, user: str, role: Role, team: str) -> None:
    run(inbox.add_member(team, user, role))


@given(step('"{user:Name}" is a custom member of "{team:Name}" who may "{permissions:Permissions}"'))
def _custom_member(run: Run[None], inbox: Inbox, user: str, team: str, permissions: frozenset[Permission]) -> None:
    run(inbox.add_member(team, user, Role.CUSTOM, permissions))


@given(step('"{team:Name}" has {count:d} owner(s)'))
def _owners(run: Run[None], inbox: Inbox, team: str, count: int) -> None:
    run(inbox.add_owners(team, count))


@given(step('"{team:Name}" has a client "{name:Name}"'))
def _client(run: Run[None], inbox: Inbox, team: str, name: str) -> None:
    run(inbox.add_client(team, name))


@given(step('"{team:Name}" has {kind:Kind} numbered "{number:Name}"'))
def _record(run: Run[None], inbox: Inbox, team: str, kind: str, number: str) -> None:
    run(inbox.add_record(team, kind, number))


@given(step('"{user:Name}" has left "{team:Name}"'))
def _left(run: Run[None], inbox: Inbox, user: str, team: str) -> None:
    run(inbox.leave(user, team))


## When

@when(step('"{user:Name}" tries to {action:Action}'))
def _act(run: Run[None], inbox: Inbox, user: str, action: str) -> None:
    run(inbox.attempt(user, action))


@when(step('"{user:Name}" tries to {action:Action} in "{team:Name}"'))
def _act_in(run: Run[None], inbox: Inbox, user: str, action: str, team: str) -> None:
    run(inbox.attempt(user, action, team))


@when(step('"{user:Name}" tries to {action:Action} without saying which team'))
def _act_unsaid(run: Run[None], inbox: Inbox, user: str, action: str) -> None:
    run(inbox.attempt(user, action, In.UNSAID))


@when(step('"{user:Name}" tries to open the team "{team:Name}"'))
def _open_team(run: Run[None], inbox: Inbox, user: str, team: str) -> None:
    run(inbox.attempt(user, "open_the_team", team))


@when(step('"{user:Name}" tries to open a team that does not exist'))
def _open_missing_team(run: Run[None], inbox: Inbox, user: str) -> None:
    run(inbox.attempt(user, "open_the_team", In.MISSING))


@when(step('"{user:Name}" tries to open the {kind:Kind} "{name:Name}" of "{team:Name}"'))
def _open_record(run: Run[None], inbox: Inbox, user: str, kind: str, name: str, team: str) -> None:
    run(inbox.attempt(user, "open_the_record", kind=kind, name=name, of=team))


@when(step('"{user:Name}" tries to delete the client "{name:Name}" of "{team:Name}"'))
def _delete_client(run: Run[None], inbox: Inbox, user: str, name: str, team: str) -> None:
    run(inbox.attempt(user, "delete_the_client", name=name, of=team))


@when(step('"{user:Name}" tries to create {kind:Kind} numbered "{number:Name}"'))
def _create_numbered(run: Run[None], inbox: Inbox, user: str, kind: str, number: str) -> None:
    run(inbox.attempt(user, "create_numbered", kind=kind, number=number))


@when(step('"{user:Name}" tries to invite "{member:Name}" as {role:Role}'))
def _invite(run: Run[None], inbox: Inbox, user: str, member: str, role: Role) -> None:
    run(inbox.attempt(user, "invite", member=member, role=role))


@when(step('"{user:Name}" tries to invite "{member:Name}" with a custom role and no permissions'))
def _invite_custom_without_permissions(run: Run[None], inbox: Inbox, user: str, member: str) -> None:
    run(inbox.attempt(user, "invite", member=member, role=Role.CUSTOM))


@when(step('"{user:Name}" tries to make "{member:Name}" {role:Role}'))
def _make(run: Run[None], inbox: Inbox, user: str, member: str, role: Role) -> None:
    run(inbox.attempt(user, "make", member=member, role=role))


@when(step('"{user:Name}" tries to remove "{member:Name}" from "{team:Name}"'))
def _remove(run: Run[None], inbox: Inbox, user: str, member: str, team: str) -> None:
    run(inbox.attempt(user, "remove", team, member=member))


## Then

@then(step("it is {outcome:Outcome}"))
def _outcome(inbox: Inbox, outcome: type[DomainError] | None) -> None:
    inbox.expect(outcome)


@then(step("the {kind:Kind}s listed are {names:Names}"))
def _listed(inbox: Inbox, kind: str, names: list[str]) -> None:
    assert inbox.listed() == sorted(names)


@then(step('"{user:Name}" is {role:Role} of "{team:Name}"'))
def _has_role(run: Run[Role | None], inbox: Inbox, user: str, role: Role, team: str) -> None:
    assert run(inbox.role_of(user, team)) is role


@then(step('"{user:Name}" is not a member of "{team:Name}"'))
def _not_member(run: Run[Role | None], inbox: Inbox, user: str, team: str) -> None:
    assert run(inbox.role_of(user, team)) is None


@then(step('"{user:Name}" still finds the {kind:Kind} "{name:Name}"'))
def _still_finds(run: Run[bool], inbox: Inbox, user: str, kind: str, name: str) -> None:
    assert run(inbox.finds(user, kind, name, inbox.homes[user]))


# ==================================================================================================
# Inbound messaging: the `inbound` driver (tests/bdd/webhooks_driver.py) and the steps shared by
# inbound_whatsapp, inbound_instagram, delivery_status and webhook_security. Feature-specific steps
# live in each test module.
# ==================================================================================================

from tests.bdd.webhooks_driver import InboundDriver  # noqa: E402
from tests.bdd.webhooks_driver import step as inbound_step  # noqa: E402
from commsinbox.domain.model.channels import Channel, DeliveryStatus, Direction, MessageType, Provider  # noqa: E402


@pytest.fixture
def inbound(request: pytest.FixtureRequest, run: Run[Any], tmp_path: Path) -> Iterator[InboundDriver]:
    """One team and the app serving webhooks, on memory or (with --backend=postgres) the session's PostgreSQL."""
    postgres = request.config.getoption("--backend") == "postgres"
    driver = InboundDriver(request.config.getoption("--backend"), tmp_path,
                           request.getfixturevalue("pg_owner_url") if postgres else None)
    try:
        run(driver.start())
        yield driver
    finally:
        run(driver.close())


## Given

@given(inbound_step("the team has connected {article:Article} {provider:Provider} account"))
def _connected(run: Run[None], inbound: InboundDriver, article: str, provider: Provider) -> None:
    run(inbound.connect(provider))


@given(inbound_step('the business sent "{text:Text}" to "{name:Text}" through {provider:Provider}'))
def _business_sent(run: Run[None], inbound: InboundDriver, text: str, name: str, provider: Provider) -> None:
    run(inbound.business_sent(provider, name, text))


## When

@when(inbound_step('"{name:Text}" sends "{text:Text}" from {phone:Phone} through {provider:Provider}'))
def _customer_sends(run: Run[None], inbound: InboundDriver, name: str, text: str, phone: str,
                    provider: Provider) -> None:
    run(inbound.customer_sends(provider, name, text, phone))


## Then

@then(inbound_step('the message "{label:Text}" is kept as an {direction:Direction} {type:Type} message'))
def _kept_as(run: Run[Any], inbound: InboundDriver, label: str, direction: Direction, type: MessageType) -> None:
    message = run(inbound.message(label))
    assert message is not None, f"no message {label!r} was stored"
    assert (message.direction, message.type) == (direction, type)


@then(inbound_step("its thread is open on the {channel:Channel} channel"))
def _thread_open_on(run: Run[Any], inbound: InboundDriver, channel: Channel) -> None:
    thread = run(inbound.thread_of(next(reversed(inbound.sent))))
    assert (thread.status.value, thread.channel) == ("open", channel)


@then(inbound_step('the messages "{first:Text}" and "{second:Text}" are in one thread with one contact'))
def _one_thread(run: Run[Any], inbound: InboundDriver, first: str, second: str) -> None:
    threads = [run(inbound.thread_of(label)) for label in (first, second)]
    assert (threads[0].id, threads[0].contact_id) == (threads[1].id, threads[1].contact_id)


@then(inbound_step('the status of "{label:Text}" is {status:Status}'))
def _status(run: Run[Any], inbound: InboundDriver, label: str, status: DeliveryStatus) -> None:
    message = run(inbound.message(label))
    assert message is not None and message.status is status, f"{label!r}: {message!r}"


@then(inbound_step("every webhook was answered {status:d}"))
def _all_answered(inbound: InboundDriver, status: int) -> None:
    assert [r.status for r in inbound.responses] == [status] * len(inbound.responses)


@then(inbound_step("the webhook is answered {status:d}"))
def _answered(inbound: InboundDriver, status: int) -> None:
    assert inbound.response.status == status, f"{inbound.response.status}: {inbound.response.reason}"
