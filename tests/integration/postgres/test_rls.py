"""The cross-tenant probe: PostgreSQL itself keeps teams apart, even for a query that forgets `team_id`."""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from commsinbox.adapters.postgres import schema
from commsinbox.adapters.postgres.engine import app_engine, as_app_role_url
from commsinbox.domain.usecases.clients import ClientFields
from commsinbox.domain.usecases.records import RecordFields
from commsinbox.entrypoints.container import Services
from tests.conftest import make_team

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@pytest.fixture
async def app_db(pg_owner_url: str) -> AsyncIterator[AsyncEngine]:
    """Connects exactly as the server does in embedded mode: as the application role."""
    engine = app_engine(as_app_role_url(pg_owner_url), set_role=False, pool_size=2)
    yield engine
    await engine.dispose()


async def scoped(engine: AsyncEngine, team_id: str, user_id: str = "") -> AsyncConnection:
    conn = await engine.connect()
    await conn.begin()
    await conn.execute(sa.text("SELECT set_config('app.team_id', :t, true), set_config('app.user_id', :u, true)"),
                       {"t": team_id, "u": user_id})
    return conn


async def seed_every_table(services: Services) -> tuple[str, str]:
    """Two teams, each with a row in every team-scoped table."""
    ids = []
    for _ in range(2):
        member = await make_team(services)
        seed = {name: str(uuid.uuid4()) for name in ("account", "contact", "thread", "message", "label")}
        client = await services.clients.create(member.actor, ClientFields("Probe", "+14155550100", "p@example.com"))
        for kind, fields in (("order", RecordFields(number="P-1")), ("invoice", RecordFields(number="P-1")),
                             ("transaction", RecordFields(amount="1", currency="USD")),
                             ("measurement", RecordFields(client_id=client.id, name="h", amount="1"))):
            record = await services.records.create(member.actor, kind, fields)  # type: ignore[arg-type]
            seed[kind] = record.id
        seed["path"] = (await services.vault.upload(member.actor, "probe.txt", b"probe", "text/plain")).path
        async with services.uows.for_team(member.team_id, member.user_id) as uow:
            await uow.settings.put("probe", {"on": True}, dt.datetime.now(dt.UTC))
            await uow.commit()
        async with services.uows.for_team(member.team_id, member.user_id) as uow:
            for table in MESSAGING_SEED_ORDER:
                await uow.conn.execute(_insert_as(table, member.team_id, seed))
            await uow.commit()
        ids.append(member.team_id)
    return ids[0], ids[1]


MESSAGING_SEED_ORDER = ("communication_accounts", "contacts", "contact_identities", "communication_threads",
                        "communication_messages", "message_attachments", "message_status_events", "outbox",
                        "labels", "thread_labels", "thread_links", "transaction_files", "consent_records",
                        "contact_search_terms", "message_search_terms", "message_templates", "audit_log")


def team_column(table: str) -> str:
    return "id" if table == "teams" else "team_id"


async def test_the_application_role_cannot_bypass_rls(app_db: AsyncEngine) -> None:
    async with app_db.connect() as conn:
        row = (await conn.execute(sa.text(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"))).one()
    assert tuple(row) == (schema.APP_ROLE, False, False)


async def test_every_table_with_a_team_column_is_forced_under_rls(pg_owner_url: str) -> None:
    engine = create_async_engine(pg_owner_url)
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text("""
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r'
              AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'team_id')
                   OR c.relname = 'teams')"""))).all()
    await engine.dispose()
    found = {r.relname: (r.relrowsecurity, r.relforcerowsecurity, r.policies > 0) for r in rows
             if r.relname not in schema.SYSTEM_TABLES}  # routing tables, deliberately without a team scope
    assert set(found) == set(schema.TEAM_TABLES)
    assert all(v == (True, True, True) for v in found.values()), found


@pytest.mark.parametrize("table", schema.TEAM_TABLES)
async def test_a_team_transaction_sees_and_touches_no_other_team(
        pg_services: Services, app_db: AsyncEngine, table: str) -> None:
    team_a, team_b = await seed_every_table(pg_services)
    column = team_column(table)
    conn = await scoped(app_db, team_a)
    try:
        visible = (await conn.execute(sa.text(f"SELECT DISTINCT {column}::text FROM {table}"))).scalars().all()
        assert visible == [team_a]
        assert (await conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {column} = :b"),
                                   {"b": team_b})).scalar() == 0
        if table in schema.APPEND_ONLY_TABLES:  # no UPDATE or DELETE at all, for any team
            for statement in (f"UPDATE {table} SET {column} = :b", f"DELETE FROM {table} WHERE {column} = :b"):
                with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                    async with conn.begin_nested():
                        await conn.execute(sa.text(statement), {"b": team_b})
        else:
            moved = await conn.execute(sa.text(f"UPDATE {table} SET {column} = {column} WHERE {column} = :b"),
                                       {"b": team_b})
            assert moved.rowcount == 0
            deleted = await conn.execute(sa.text(f"DELETE FROM {table} WHERE {column} = :b"), {"b": team_b})
            assert deleted.rowcount == 0
            with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
                async with conn.begin_nested():
                    await conn.execute(sa.text(f"UPDATE {table} SET {column} = :b"), {"b": team_b})
        with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
            async with conn.begin_nested():
                await conn.execute(_insert_as(table, team_b))
    finally:
        await conn.rollback()
        await conn.close()
    conn = await scoped(app_db, team_b)
    try:
        assert (await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar() > 0
    finally:
        await conn.rollback()
        await conn.close()


async def test_without_a_team_nothing_is_visible(pg_services: Services, app_db: AsyncEngine) -> None:
    await seed_every_table(pg_services)
    conn = await scoped(app_db, "")
    try:
        for table in schema.TEAM_TABLES:
            assert (await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar() == 0, table
    finally:
        await conn.rollback()
        await conn.close()


def _insert_as(table: str, team_id: str, seed: dict[str, str] | None = None) -> sa.Insert:
    """A row of `table` for `team_id` (`seed` names the related rows); for another team, the RLS check
    refuses it before keys or constraints are looked at."""
    t = schema.metadata.tables[table]
    now = sa.func.now()
    new = str(uuid.uuid4())
    ids = seed or {name: new for name in ("account", "contact", "thread", "message", "label", "transaction", "path")}
    rows = {
        "teams": {"id": team_id, "name": "x", "base_currency": "USD", "timezone": "UTC",
                  "plan": "free", "created_at": now, "version": 1},
        "team_memberships": {"team_id": team_id, "user_id": new, "role": "owner", "created_at": now},
        "team_settings": {"team_id": team_id, "key": "x", "value": {}, "updated_at": now},
        "clients": {"id": new, "team_id": team_id, "name": "x", "created_at": now},
        "orders": {"id": new, "team_id": team_id, "number": new, "created_at": now},
        "invoices": {"id": new, "team_id": team_id, "number": new, "created_at": now},
        "transactions": {"id": new, "team_id": team_id, "amount": 1, "currency": "USD", "created_at": now},
        "measurements": {"id": new, "team_id": team_id, "client_id": new, "name": "x", "value": 1,
                         "created_at": now},
        "vault_files": {"team_id": team_id, "path": new, "content_type": "text/plain", "size": 1, "checksum": "0",
                        "created_at": now},
        "communication_accounts": {"id": ids["account"], "team_id": team_id, "provider": "whatsapp-meta",
                                   "external_id": new, "display_name": "x", "status": "active", "created_at": now},
        "contacts": {"id": ids["contact"], "team_id": team_id, "created_at": now},
        "contact_identities": {"team_id": team_id, "kind": "wa_id", "value": new, "contact_id": ids["contact"]},
        "communication_threads": {"id": ids["thread"], "team_id": team_id, "account_id": ids["account"],
                                  "contact_id": ids["contact"], "channel": "whatsapp", "external_contact_id": new,
                                  "status": "open", "last_message_at": now, "created_at": now},
        "communication_messages": {"id": ids["message"], "team_id": team_id, "thread_id": ids["thread"],
                                   "account_id": ids["account"], "provider_message_id": new, "direction": "in",
                                   "type": "text", "sent_at": now, "status": "delivered", "created_at": now},
        "message_attachments": {"id": new, "team_id": team_id, "message_id": ids["message"], "position": 0,
                                "kind": "image", "source": {}, "created_at": now},
        "message_status_events": {"team_id": team_id, "account_id": ids["account"], "provider_message_id": new,
                                  "status": "sent", "at": now},
        "outbox": {"team_id": team_id, "kind": "probe", "payload": {}, "occurred_at": now},
        "labels": {"id": ids["label"], "team_id": team_id, "name": new, "created_at": now},
        "thread_labels": {"team_id": team_id, "thread_id": ids["thread"], "label_id": ids["label"]},
        "thread_links": {"team_id": team_id, "thread_id": ids["thread"], "record_type": "client", "record_id": new},
        "consent_records": {"team_id": team_id, "contact_id": ids["contact"], "channel": "whatsapp",
                            "status": "opted_out", "source": "probe", "at": now},
        "contact_search_terms": {"team_id": team_id, "field": "name", "term": new, "contact_id": ids["contact"]},
        "message_search_terms": {"team_id": team_id, "term": new, "thread_id": ids["thread"],
                                 "message_id": ids["message"]},
        "transaction_files": {"team_id": team_id, "transaction_id": ids["transaction"], "path": ids["path"],
                              "attached_at": now},
        "message_templates": {"id": new, "team_id": team_id, "account_id": ids["account"], "name": "probe",
                              "language": "en", "category": "utility", "body": "hi", "variable_count": 0,
                              "status": "draft", "created_at": now, "updated_at": now},
        "audit_log": {"team_id": team_id, "seq": 1, "at": now, "actor": "system", "action": "probe", "subject": "x",
                      "details": {}, "prev_hash": "0" * 64, "hash": "0" * 64},
    }
    return t.insert().values(rows[table])
