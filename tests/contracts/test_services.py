"""The use cases over both adapters (memory and PostgreSQL): the same assertions, so neither can drift."""
from __future__ import annotations

import asyncio
import datetime as dt
import uuid
import hashlib
from decimal import Decimal

import pytest

from commsinbox.domain.model.errors import (
    ConcurrencyConflict,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyAttempts,
    Unauthenticated,
)
from commsinbox.domain.model.ids import LabelId
from commsinbox.domain.model.labels import Label
from commsinbox.domain.model.paging import PageRequest
from commsinbox.domain.model.values import Permission, Role
from commsinbox.domain.usecases.clients import ClientFields
from commsinbox.domain.usecases.records import RecordFields
from commsinbox.domain.usecases.teams import TeamChanges
from commsinbox.entrypoints.container import Services
from tests.conftest import Member, join, make_team
from tests.support.factories import PASSWORD, random_email

pytestmark = pytest.mark.integration


async def test_login_returns_a_session_that_authenticates(services: Services) -> None:
    owner = await make_team(services)
    result = await services.accounts.login(owner.email, PASSWORD, "10.0.0.1")
    assert (await services.accounts.authenticate(result.token)).id == owner.user_id
    assert [(t.id, m.role) for t, m in result.teams] == [(owner.team_id, Role.OWNER)]
    await services.accounts.logout(result.token)
    with pytest.raises(Unauthenticated):
        await services.accounts.authenticate(result.token)


async def test_a_token_and_its_users_memberships_are_read_together(services: Services) -> None:
    owner, other = await make_team(services), await make_team(services)
    agent = await join(services, owner, Role.AGENT)
    await services.accounts.create_user(random_email(), PASSWORD, team=other.team_id, role=Role.AGENT)
    token = (await services.accounts.login(agent.email, PASSWORD, "10.0.0.1")).token
    user, memberships = await services.accounts.authenticate_member(token)
    assert (user.id, [(m.team_id, m.role) for m in memberships]) == (agent.user_id, [(owner.team_id, Role.AGENT)])
    await services.accounts.logout(token)
    with pytest.raises(Unauthenticated):
        await services.accounts.authenticate_member(token)


async def test_wrong_password_and_unknown_email_read_the_same(services: Services) -> None:
    owner = await make_team(services)
    with pytest.raises(Unauthenticated) as wrong:
        await services.accounts.login(owner.email, "not the password", "10.0.0.2")
    with pytest.raises(Unauthenticated) as unknown:
        await services.accounts.login(random_email(), PASSWORD, "10.0.0.2")
    assert str(wrong.value) == str(unknown.value)


async def test_login_is_throttled_per_email_and_success_does_not_count(services: Services) -> None:
    owner = await make_team(services)
    for _ in range(12):
        await services.accounts.login(owner.email, PASSWORD, "10.1.0.250")
    for attempt in range(10):
        with pytest.raises(Unauthenticated):
            await services.accounts.login(owner.email, "wrong password", f"10.1.0.{attempt}")
    with pytest.raises(TooManyAttempts) as refused:
        await services.accounts.login(owner.email, PASSWORD, "10.1.1.1")
    assert 0 < refused.value.retry_after_seconds <= 300


async def test_login_is_throttled_per_ip_at_ten_times_the_email_limit(services: Services) -> None:
    ip = f"10.2.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    for _ in range(100):
        with pytest.raises(Unauthenticated):
            await services.accounts.login(random_email(), "wrong password", ip)
    with pytest.raises(TooManyAttempts):
        await services.accounts.login(random_email(), "wrong password", ip)


async def test_api_token_authenticates_until_revoked(services: Services) -> None:
    owner = await make_team(services)
    token_id, token = await services.accounts.create_api_token(owner.user_id, "ci")
    assert token_id and token.startswith("ci_")
    assert (await services.accounts.authenticate(token)).id == owner.user_id
    await services.accounts.logout(token)
    with pytest.raises(Unauthenticated):
        await services.accounts.authenticate(token)


async def test_duplicate_email_is_a_conflict(services: Services) -> None:
    owner = await make_team(services)
    with pytest.raises(Conflict):
        await services.accounts.create_user(owner.email.upper(), PASSWORD)


async def test_clients_crud_and_keyset_pages(services: Services) -> None:
    owner = await make_team(services)
    created = [await services.clients.create(owner.actor, ClientFields(f"Client {i}", f"+5511987650{i:03d}",
                                                                        f"c{i}@example.com")) for i in range(5)]
    first = await services.clients.list(owner.actor, PageRequest(limit=2))
    assert [c.id for c in first.items] == [c.id for c in reversed(created)][:2]
    second = await services.clients.list(owner.actor, PageRequest.of(first.next_cursor, 2))
    third = await services.clients.list(owner.actor, PageRequest.of(second.next_cursor, 2))
    assert [c.id for c in first.items + second.items + third.items] == [c.id for c in reversed(created)]
    assert third.next_cursor is None

    updated = await services.clients.update(owner.actor, created[0].id, ClientFields("Renamed", None, "X@Example.com"))
    fetched = await services.clients.get(owner.actor, created[0].id)
    assert (fetched.name, fetched.phone, fetched.email) == ("Renamed", None, "x@example.com") == (
        updated.name, updated.phone, updated.email)
    await services.clients.delete(owner.actor, created[0].id)
    with pytest.raises(NotFound):
        await services.clients.get(owner.actor, created[0].id)


async def test_order_numbers_are_unique_per_team_only(services: Services) -> None:
    a, b = await make_team(services), await make_team(services)
    await services.records.create(a.actor, "order", RecordFields(number="A-1", amount="10.50", currency="BRL"))
    with pytest.raises(Conflict):
        await services.records.create(a.actor, "order", RecordFields(number="A-1"))
    await services.records.create(b.actor, "order", RecordFields(number="A-1"))
    await services.records.create(a.actor, "invoice", RecordFields(number="A-1"))
    with pytest.raises(Conflict):
        await services.records.create(a.actor, "invoice", RecordFields(number="A-1"))
    orders = await services.records.list(a.actor, "order", PageRequest())
    assert [(o.number, o.amount, o.currency) for o in orders.items] == [("A-1", Decimal("10.50"), "BRL")]


async def test_records_link_to_the_teams_own_clients(services: Services) -> None:
    a, b = await make_team(services), await make_team(services)
    mine = await services.clients.create(a.actor, ClientFields("Ana"))
    theirs = await services.clients.create(b.actor, ClientFields("Bia"))
    tx = await services.records.create(a.actor, "transaction",
                                       RecordFields(client_id=mine.id, amount="-3.25", currency="USD"))
    assert (await services.records.get(a.actor, "transaction", tx.id)).client_id == mine.id
    with pytest.raises(NotFound):
        await services.records.create(a.actor, "order", RecordFields(number="X", client_id=theirs.id))
    measured = await services.records.create(a.actor, "measurement",
                                             RecordFields(client_id=mine.id, name="waist", amount="71.5", unit="cm"))
    listed = await services.records.list(a.actor, "measurement", PageRequest(), client_id=mine.id)
    assert [m.id for m in listed.items] == [measured.id]


async def test_money_needs_amount_and_currency_together(services: Services) -> None:
    owner = await make_team(services)
    with pytest.raises(InvalidInput) as missing:
        await services.records.create(owner.actor, "order", RecordFields(number="1", amount="3"))
    assert missing.value.fields[0].path == "currency"
    with pytest.raises(InvalidInput) as bad:
        await services.records.create(owner.actor, "transaction", RecordFields(amount="3", currency="XXZ"))
    assert bad.value.fields[0].path == "currency"


async def test_another_teams_records_read_as_not_found(services: Services) -> None:
    a, b = await make_team(services), await make_team(services)
    client = await services.clients.create(b.actor, ClientFields("Bia"))
    order = await services.records.create(b.actor, "order", RecordFields(number="B-1"))
    with pytest.raises(NotFound):
        await services.clients.get(a.actor, client.id)
    with pytest.raises(NotFound):
        await services.clients.update(a.actor, client.id, ClientFields("Stolen"))
    with pytest.raises(NotFound):
        await services.clients.delete(a.actor, client.id)
    with pytest.raises(NotFound):
        await services.records.get(a.actor, "order", order.id)
    assert (await services.clients.list(a.actor, PageRequest())).items == ()
    assert (await services.clients.get(b.actor, client.id)).name == "Bia"
    with pytest.raises(NotFound):
        await services.access.resolve(a.user_id, b.team_id)


async def test_team_settings_update_and_optimistic_version(services: Services) -> None:
    owner = await make_team(services)
    assert (await services.teams.get(owner.actor)).reply_grace == dt.timedelta(minutes=30)  # the default
    team = await services.teams.update(owner.actor, TeamChanges(
        name="Loja", base_currency="BRL", timezone="America/Sao_Paulo", quiet_hours="22:00-07:30",
        reply_grace_minutes=0))
    assert (team.name, team.base_currency, team.timezone, str(team.quiet_hours), team.reply_grace) == (
        "Loja", "BRL", "America/Sao_Paulo", "22:00-07:30", None)
    assert (await services.teams.update(owner.actor, TeamChanges(reply_grace_minutes=45))).reply_grace == \
        dt.timedelta(minutes=45)
    stale = await services.teams.get(owner.actor)
    async with services.uows.for_team(owner.team_id, owner.user_id) as uow:
        fresh = await uow.teams.get(owner.team_id)
        assert fresh is not None
        await uow.teams.update(fresh)
        await uow.commit()
    async with services.uows.for_team(owner.team_id, owner.user_id) as uow:
        with pytest.raises(ConcurrencyConflict):
            await uow.teams.update(stale)
    for changes, path in ((TeamChanges(base_currency="usd"), "baseCurrency"), (TeamChanges(timezone="Mars/Base"),
                          "timezone"), (TeamChanges(quiet_hours="25:00-08:00"), "quietHours"),
                          (TeamChanges(reply_grace_minutes=-1), "replyGraceMinutes"),
                          (TeamChanges(reply_grace_minutes=24 * 60 + 1), "replyGraceMinutes")):
        with pytest.raises(InvalidInput) as bad:
            await services.teams.update(owner.actor, changes)
        assert bad.value.fields[0].path == path
    assert (await services.teams.get(owner.actor)).name == "Loja"
    assert (await services.teams.get(owner.actor)).reply_grace == dt.timedelta(minutes=45)


async def test_roles_limit_what_members_may_do(services: Services) -> None:
    owner = await make_team(services)
    agent = await join(services, owner, Role.AGENT)
    manager = await join(services, owner, Role.MANAGER)
    client = await services.clients.create(agent.actor, ClientFields("Made by an agent"))
    with pytest.raises(Forbidden):
        await services.clients.delete(agent.actor, client.id)
    with pytest.raises(Forbidden):
        await services.teams.update(manager.actor, TeamChanges(name="x"))
    with pytest.raises(Forbidden):
        await services.teams.invite(manager.actor, random_email(), Role.OWNER)
    invited = await services.teams.invite(manager.actor, random_email(), Role.CUSTOM,
                                          frozenset({Permission.CLIENTS_READ}))
    assert invited.membership.permissions == {Permission.CLIENTS_READ}
    with pytest.raises(Forbidden):
        await services.teams.set_role(manager.actor, owner.user_id, Role.AGENT)
    members = {m.email: m.membership.role for m in await services.teams.members(agent.actor)}
    assert members == {owner.email: Role.OWNER, agent.email: Role.AGENT, manager.email: Role.MANAGER,
                       invited.email: Role.CUSTOM}


async def test_a_team_keeps_an_owner(services: Services) -> None:
    owner = await make_team(services)
    with pytest.raises(Conflict):
        await services.teams.remove(owner.actor, owner.user_id)
    with pytest.raises(Conflict):
        await services.teams.set_role(owner.actor, owner.user_id, Role.MANAGER)
    second = await join(services, owner, Role.OWNER)
    await services.teams.set_role(second.actor, owner.user_id, Role.MANAGER)
    assert {m.membership.role for m in await services.teams.members(second.actor)} == {Role.OWNER, Role.MANAGER}


async def test_a_user_of_two_teams_must_choose(services: Services) -> None:
    a, b = await make_team(services), await make_team(services)
    await services.teams.invite(b.actor, a.email, Role.AGENT)
    with pytest.raises(InvalidInput) as unchosen:
        await services.access.resolve(a.user_id, None)
    assert unchosen.value.fields[0].path == "x-team-id"
    assert (await services.access.resolve(a.user_id, b.team_id)).membership.role is Role.AGENT


async def test_vault_stores_files_per_team(services: Services) -> None:
    a, b = await make_team(services), await make_team(services)
    stored = await services.vault.upload(a.actor, "inbox/receipt.pdf", b"%PDF-1.7 test", "application/pdf")
    assert (stored.size, stored.checksum) == (13, hashlib.sha256(b"%PDF-1.7 test").hexdigest())
    file, data = await services.vault.download(a.actor, "inbox/receipt.pdf")
    assert data == b"%PDF-1.7 test" and file.checksum == stored.checksum
    assert [f.path for f in await services.vault.list(a.actor, "inbox")] == ["inbox/receipt.pdf"]
    with pytest.raises(NotFound):
        await services.vault.download(b.actor, "inbox/receipt.pdf")
    assert await services.vault.list(b.actor, None) == []
    with pytest.raises(InvalidInput):
        await services.vault.upload(a.actor, "../escape.txt", b"x", "text/plain")


async def test_team_setting_overrides_are_kept_per_team(services: Services) -> None:
    a, b = await make_team(services), await make_team(services)
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    async with services.uows.for_team(a.team_id, a.user_id) as uow:
        await uow.settings.put("rate_cap", {"perSecond": 20}, now)
        await uow.settings.put("rate_cap", {"perSecond": 40}, now)
        await uow.commit()
    async with services.uows.for_team(a.team_id, a.user_id) as uow:
        await uow.settings.put("not_committed", True, now)
    async with services.uows.for_team(a.team_id, a.user_id) as uow:
        assert await uow.settings.all() == {"rate_cap": {"perSecond": 40}}
    async with services.uows.for_team(b.team_id, b.user_id) as uow:
        assert await uow.settings.get("rate_cap") is None


@pytest.mark.parametrize("change", ["remove", "demote"])
async def test_two_owners_leaving_at_once_leave_one_owner(services: Services, change: str) -> None:
    for _ in range(5):  # the race is timing-dependent: try it a few times
        owner = await make_team(services)
        second = await join(services, owner, Role.OWNER)

        async def leave(member: Member) -> None:
            if change == "remove":
                await services.teams.remove(member.actor, member.user_id)
            else:
                await services.teams.set_role(member.actor, member.user_id, Role.MANAGER)

        results = await asyncio.gather(leave(owner), leave(second), return_exceptions=True)
        assert sorted(type(r).__name__ for r in results) == ["Conflict", "NoneType"]
        async with services.uows.for_team(owner.team_id) as uow:
            assert [m.role for m in await uow.members.list()].count(Role.OWNER) == 1


async def test_a_refused_invite_creates_no_account(services: Services) -> None:
    owner = await make_team(services)
    email = random_email("nina")
    with pytest.raises(InvalidInput):
        await services.teams.invite(owner.actor, email, Role.CUSTOM, frozenset())
    async with services.uows.for_accounts() as uow:
        assert await uow.users.get_by_email(email) is None


async def test_a_read_only_unit_of_work_refuses_writes_and_the_next_unit_may_write(services: Services) -> None:
    """Both adapters hold read-only units to reading; the write fails where it is made, and nothing is kept."""
    owner = await make_team(services)
    with pytest.raises(Exception, match="read-only transaction"):
        async with services.uows.for_team(owner.team_id, owner.user_id, read_only=True) as uow:
            await uow.labels.add(Label(LabelId(str(uuid.uuid4())), owner.team_id, "Never", dt.datetime.now(dt.UTC)))
    async with services.uows.for_team(owner.team_id, owner.user_id) as uow:
        assert await uow.labels.list() == []
        await uow.labels.add(Label(LabelId(str(uuid.uuid4())), owner.team_id, "Kept", dt.datetime.now(dt.UTC)))
        await uow.commit()
    async with services.uows.for_team(owner.team_id, owner.user_id, read_only=True) as uow:
        assert [label.name for label in await uow.labels.list()] == ["Kept"]
