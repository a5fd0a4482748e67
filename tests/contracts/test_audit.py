"""The audit log on both adapters: one gapless hash chain per team, appended in the caller's transaction,
verified end to end; tampering is found, and in PostgreSQL the application role cannot change or delete entries."""
from __future__ import annotations

import asyncio
import datetime as dt

import attrs
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from commsinbox.adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from commsinbox.domain.model.audit import GENESIS, AuditEvent, verify_chain
from commsinbox.domain.model.errors import Forbidden, InvalidInput
from commsinbox.domain.model.values import Role
from commsinbox.entrypoints.container import Services
from tests.conftest import Member, join, make_team

pytestmark = pytest.mark.integration
T0 = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def event(n: int, **details: object) -> AuditEvent:
    return AuditEvent("system", "probe.appended", f"probe:{n}", T0 + dt.timedelta(seconds=n, microseconds=7),
                      {"n": n, "text": "São Paulo ✓", **details})


async def append(services: Services, member: Member, *events: AuditEvent, commit: bool = True) -> None:
    async with services.uows.for_team(member.team_id, member.user_id) as uow:
        for e in events:
            await uow.audit.append(e)
        if commit:
            await uow.commit()


async def entries(services: Services, member: Member) -> list:  # type: ignore[type-arg]
    async with services.uows.for_team(member.team_id) as uow:
        return await uow.audit.oldest(0, 10_000)


async def test_entries_chain_in_order_and_verify(services: Services) -> None:
    owner = await make_team(services)
    await append(services, owner, event(1), event(2, nested={"b": [1, 2], "a": None}))
    await append(services, owner, event(3))
    chain = await entries(services, owner)
    assert [e.seq for e in chain] == [1, 2, 3]
    assert chain[0].prev_hash == GENESIS and chain[1].prev_hash == chain[0].hash
    assert chain[1].details == {"n": 2, "text": "São Paulo ✓", "nested": {"a": None, "b": [1, 2]}}
    assert all(e.hash == e.expected_hash() for e in chain)  # what came back from storage hashes the same
    result = await services.audit.verify(owner.actor)
    assert (result.ok, result.checked, result.head_seq, result.head_hash) == (True, 3, 3, chain[2].hash)


async def test_an_entry_rolled_back_with_its_change_leaves_no_gap(services: Services) -> None:
    owner = await make_team(services)
    await append(services, owner, event(1), commit=False)
    await append(services, owner, event(2))
    assert [(e.seq, e.subject) for e in await entries(services, owner)] == [(1, "probe:2")]


async def test_concurrent_appends_of_one_team_keep_one_chain(services: Services) -> None:
    owner = await make_team(services)
    await asyncio.gather(*(append(services, owner, event(n), event(n + 100)) for n in range(6)))
    chain = await entries(services, owner)
    assert [e.seq for e in chain] == list(range(1, 13))
    assert verify_chain(chain).ok


async def test_each_team_has_its_own_chain(services: Services) -> None:
    first, second = await make_team(services), await make_team(services)
    await append(services, first, event(1), event(2))
    await append(services, second, event(3))
    assert [e.subject for e in await entries(services, second)] == ["probe:3"]
    assert (await entries(services, second))[0].prev_hash == GENESIS


async def test_list_is_newest_first_keyset_paged_and_for_owners_and_managers(services: Services) -> None:
    owner = await make_team(services)
    await append(services, owner, *(event(n) for n in range(1, 6)))
    first = await services.audit.list(owner.actor, None, 2)
    assert [e.seq for e in first.items] == [5, 4] and first.next_cursor == "4"
    second = await services.audit.list(owner.actor, first.next_cursor, 2)
    last = await services.audit.list(owner.actor, second.next_cursor, 2)
    assert [e.seq for e in second.items] == [3, 2] and [e.seq for e in last.items] == [1]
    assert last.next_cursor is None
    manager, agent = await join(services, owner, Role.MANAGER), await join(services, owner, Role.AGENT)
    assert len((await services.audit.list(manager.actor)).items) == 5
    with pytest.raises(Forbidden):
        await services.audit.list(agent.actor)
    with pytest.raises(Forbidden):
        await services.audit.verify(agent.actor)
    for cursor, limit, field in (("x1", None, "cursor"), (None, 0, "limit"), (None, 201, "limit")):
        with pytest.raises(InvalidInput) as bad:
            await services.audit.list(owner.actor, cursor, limit)
        assert bad.value.fields[0].path == field


async def test_details_must_be_plain_json() -> None:
    with pytest.raises(ValueError, match="plain JSON"):
        AuditEvent("system", "x.y", "s", T0, {"when": T0})
    with pytest.raises(ValueError, match="timezone"):
        AuditEvent("system", "x.y", "s", T0.replace(tzinfo=None))


async def test_tampering_in_memory_is_found(memory: Services) -> None:
    owner = await make_team(memory)
    await append(memory, owner, *(event(n) for n in range(1, 5)))
    assert isinstance(memory.uows, MemoryUnitOfWorkFactory)
    table = memory.uows.db.table("audit_log")
    key, original = (owner.team_id, 2), table[(owner.team_id, 2)]
    table[key] = attrs.evolve(original, details={"n": 2, "text": "changed"})
    result = await memory.audit.verify(owner.actor)
    assert (result.ok, result.broken_seq, result.reason) == (False, 2, "its content does not match its hash")
    table[key] = original
    assert (await memory.audit.verify(owner.actor)).ok
    del table[(owner.team_id, 3)]
    removed = await memory.audit.verify(owner.actor)
    assert (removed.ok, removed.broken_seq, removed.reason) == (False, 4, "expected entry 3: an entry is missing")


@pytest.mark.postgres
async def test_the_app_role_cannot_change_or_delete_entries_and_the_owner_is_refused_too(
        pg_services: Services, pg_owner_url: str) -> None:
    owner = await make_team(pg_services)
    await append(pg_services, owner, event(1), event(2))
    for statement in ("UPDATE audit_log SET details = '{}'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
        async with pg_services.uows.for_team(owner.team_id) as uow:
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                await uow.conn.execute(sa.text(statement))  # type: ignore[attr-defined]
    engine = create_async_engine(pg_owner_url)
    try:
        for statement in ("UPDATE audit_log SET details = '{}' WHERE team_id = :t", "DELETE FROM audit_log WHERE team_id = :t"):
            async with engine.connect() as conn:
                with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                    await conn.execute(sa.text(statement), {"t": owner.team_id})
    finally:
        await engine.dispose()
    assert [e.seq for e in await entries(pg_services, owner)] == [1, 2]


@pytest.mark.postgres
async def test_tampering_by_the_database_owner_is_found(pg_services: Services, pg_owner_url: str) -> None:
    owner = await make_team(pg_services)
    await append(pg_services, owner, *(event(n) for n in range(1, 5)))
    engine = create_async_engine(pg_owner_url)
    try:
        async with engine.begin() as conn:  # the trigger is the owner's to disable: the chain still tells
            await conn.execute(sa.text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
            await conn.execute(sa.text("UPDATE audit_log SET details = details || '{\"n\": 99}' "
                                       "WHERE team_id = :t AND seq = 3"), {"t": owner.team_id})
            await conn.execute(sa.text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
        changed = await pg_services.audit.verify(owner.actor)
        assert (changed.ok, changed.checked, changed.broken_seq) == (False, 3, 3)
        async with engine.begin() as conn:
            await conn.execute(sa.text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
            await conn.execute(sa.text("DELETE FROM audit_log WHERE team_id = :t AND seq >= 2"), {"t": owner.team_id})
            await conn.execute(sa.text("INSERT INTO audit_log SELECT team_id, 2, at, actor, action, subject, "
                                       "details, prev_hash, hash FROM audit_log WHERE team_id = :t AND seq = 1"),
                               {"t": owner.team_id})
            await conn.execute(sa.text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
        replaced = await pg_services.audit.verify(owner.actor)
        assert (replaced.ok, replaced.broken_seq) == (False, 2)
    finally:
        await engine.dispose()
