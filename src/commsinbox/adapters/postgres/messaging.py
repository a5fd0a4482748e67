"""PostgreSQL messaging repositories: the team tables, under RLS (system-level stores are in `system.py`)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from ...domain.model.accounts import CommunicationAccount
from ...domain.model.channels import Channel, DeliveryStatus
from ...domain.model.consent import ConsentRecord, ConsentStatus
from ...domain.model.contacts import Contact, Identity
from ...domain.model.errors import InvalidInput
from ...domain.model.paging import Cursor, Page, PageRequest
from ...domain.model.threads import Attachment, Dispatch, Message, Thread
from ...domain.policies.delivery import Reported
from . import message_mappers as m
from ...ports.messaging import OutboxEntry
from .bulk import insert_rows, update_rows
from .repositories import _write
from .schema import (
    account_routes,
    communication_accounts,
    communication_messages,
    communication_threads,
    contact_identities,
    contacts,
    message_attachments,
    message_status_events,
    consent_records,
    outbox,
)


@attrs.define
class _Scoped:
    conn: AsyncConnection
    team_id: str


class PostgresAccountRepository(_Scoped):
    """Adding or removing an account also adds or removes its webhook route, in the same transaction."""

    async def add(self, account: CommunicationAccount, extra_routes: list[str] | None = None, *,
                  routed: bool = True) -> None:
        what = f"{account.provider.value} account {account.external_id}"
        await _write(self.conn, communication_accounts.insert().values(m.account_values(account)), what)
        route = {"provider": account.provider.value, "team_id": account.team_id, "account_id": account.id}
        await _write(self.conn, account_routes.insert().values(  # listed for operators even before it is routed
            {**route, "external_id": account.external_id, "active": False}), what)
        if routed:
            await self.route(account, extra_routes)

    async def route(self, account: CommunicationAccount, extra_routes: list[str] | None = None) -> None:
        # shared keys (a WhatsApp Business Account) stay with the first account that named them
        r = account_routes.c
        await self.conn.execute(account_routes.update().where(
            r.provider == account.provider.value, r.external_id == account.external_id,
            r.account_id == account.id).values(active=True))
        if extra_routes:
            route = {"provider": account.provider.value, "team_id": account.team_id, "account_id": account.id}
            await self.conn.execute(insert(account_routes).values([
                {**route, "external_id": key, "active": True} for key in extra_routes]).on_conflict_do_nothing())

    async def get(self, id: str) -> CommunicationAccount | None:
        row = (await self.conn.execute(self._mine().where(communication_accounts.c.id == id))).first()
        return m.row_to_account(row) if row else None

    async def list(self) -> list[CommunicationAccount]:
        query = self._mine().order_by(communication_accounts.c.created_at, communication_accounts.c.id)
        return [m.row_to_account(r) for r in await self.conn.execute(query)]

    async def update(self, account: CommunicationAccount) -> None:
        values = m.account_values(account)
        await self.conn.execute(communication_accounts.update().where(
            communication_accounts.c.team_id == self.team_id, communication_accounts.c.id == account.id
        ).values({k: values[k] for k in ("display_name", "status", "credentials_sealed", "settings", "rate_config")}))

    async def remove(self, id: str) -> bool:
        gone = (await self.conn.execute(communication_accounts.delete().where(
            communication_accounts.c.team_id == self.team_id, communication_accounts.c.id == id
        ).returning(communication_accounts.c.id))).first()
        if gone is None:
            return False
        await self.conn.execute(account_routes.delete().where(
            account_routes.c.team_id == self.team_id, account_routes.c.account_id == id))
        return True

    def _mine(self) -> sa.Select[Any]:
        return sa.select(communication_accounts).where(communication_accounts.c.team_id == self.team_id)


_FIND_BY_IDENTITIES = sa.text("""
    SELECT i.kind, i.value, c.*
    FROM unnest(CAST(:kinds AS text[]), CAST(:values AS text[])) AS wanted(kind, value)
    JOIN contact_identities i ON i.team_id = :team AND i.kind = wanted.kind AND i.value = wanted.value
    JOIN contacts c ON c.team_id = i.team_id AND c.id = i.contact_id
    """).columns(sa.column("kind", sa.Text), sa.column("value", sa.Text), *contacts.c)  # typed: ids come back as str


async def _write_rows(conn: AsyncConnection, table: sa.Table, rows: list[dict[str, Any]], what: str) -> None:
    if rows:
        statement, params = insert_rows(table, rows)
        await _write(conn, statement, what, params)


class PostgresContactRepository(_Scoped):
    async def find(self, identities: list[Identity]) -> Contact | None:
        if not identities:
            return None
        pairs = [sa.and_(contact_identities.c.kind == i.kind.value, contact_identities.c.value == i.value)
                 for i in identities]
        query = (sa.select(contacts).join(contact_identities, sa.and_(
            contact_identities.c.team_id == contacts.c.team_id, contact_identities.c.contact_id == contacts.c.id))
            .where(contacts.c.team_id == self.team_id, sa.or_(*pairs)).order_by(contacts.c.created_at).limit(1))
        row = (await self.conn.execute(query)).first()
        return m.row_to_contact(row) if row else None

    async def add(self, contact: Contact, identities: list[Identity]) -> None:
        await _write(self.conn, contacts.insert().values(m.contact_values(contact)), "contact")
        await _write(self.conn, contact_identities.insert().values(
            [{"team_id": self.team_id, "kind": i.kind.value, "value": i.value, "contact_id": contact.id}
             for i in identities]), "contact identity")

    async def get(self, id: str) -> Contact | None:
        row = (await self.conn.execute(sa.select(contacts).where(
            contacts.c.team_id == self.team_id, contacts.c.id == id))).first()
        return m.row_to_contact(row) if row else None

    async def find_many(self, identities: list[Identity]) -> dict[Identity, Contact]:
        if not identities:
            return {}
        wanted = list(dict.fromkeys(identities))
        rows = await self.conn.execute(_FIND_BY_IDENTITIES, {
            "team": self.team_id, "kinds": [x.kind.value for x in wanted], "values": [x.value for x in wanted]})
        by_key = {(r.kind, r.value): m.row_to_contact(r) for r in rows}
        return {x: by_key[(x.kind.value, x.value)] for x in identities if (x.kind.value, x.value) in by_key}

    async def add_many(self, contacts_: list[tuple[Contact, list[Identity]]]) -> None:
        if not contacts_:
            return
        await _write_rows(self.conn, contacts, [m.contact_values(c) for c, _ in contacts_], "contact")
        await _write_rows(self.conn, contact_identities, [
            {"team_id": self.team_id, "kind": i.kind.value, "value": i.value, "contact_id": c.id}
            for c, identities in contacts_ for i in identities], "contact identity")

    async def add_identities_many(self, pairs: list[tuple[str, Identity]]) -> None:
        if pairs:
            await self.conn.execute(*insert_rows(contact_identities, [
                {"team_id": self.team_id, "kind": i.kind.value, "value": i.value, "contact_id": contact_id}
                for contact_id, i in pairs], skip_conflicts_on=()))


class PostgresThreadRepository(_Scoped):
    async def latest(self, account_id: str, contact_id: str) -> Thread | None:
        t = communication_threads
        row = (await self.conn.execute(sa.select(t).where(
            t.c.team_id == self.team_id, t.c.account_id == account_id, t.c.contact_id == contact_id,
        ).order_by(t.c.created_at.desc(), t.c.id.desc()).limit(1))).first()
        return m.row_to_thread(row) if row else None

    async def add(self, thread: Thread) -> None:
        await _write(self.conn, communication_threads.insert().values(m.thread_values(thread)), "active thread")

    async def get(self, id: str) -> Thread | None:
        t = communication_threads
        row = (await self.conn.execute(sa.select(t).where(t.c.team_id == self.team_id, t.c.id == id))).first()
        return m.row_to_thread(row) if row else None

    async def get_many(self, ids: list[str]) -> dict[str, Thread]:
        t = communication_threads
        rows = await self.conn.execute(sa.select(t).where(t.c.team_id == self.team_id, t.c.id.in_(ids))) if ids else []
        return {thread.id: thread for thread in (m.row_to_thread(r) for r in rows)}

    async def update(self, thread: Thread) -> None:
        await self.update_many([thread])

    async def latest_many(self, account_id: str, contact_ids: list[str]) -> dict[str, Thread]:
        if not contact_ids:
            return {}
        t = communication_threads
        query = (sa.select(t).ext(distinct_on(t.c.contact_id)).where(
            t.c.team_id == self.team_id, t.c.account_id == account_id,
            t.c.contact_id == sa.any_(sa.bindparam("contacts", sorted(set(contact_ids)), type_=ARRAY(t.c.id.type))))
            .order_by(t.c.contact_id, t.c.created_at.desc(), t.c.id.desc()))
        return {r.contact_id: m.row_to_thread(r) for r in await self.conn.execute(query)}

    async def add_many(self, threads: list[Thread]) -> None:
        await _write_rows(self.conn, communication_threads, [m.thread_values(x) for x in threads], "active thread")

    async def update_many(self, threads: list[Thread]) -> None:
        if threads:
            statement, params = update_rows(communication_threads, "id", [
                {"id": x.id, "status": x.status.value, "snoozed_until": x.snoozed_until,
                 "last_message_at": x.last_message_at, "last_inbound_at": x.last_inbound_at,
                 "unread_count": x.unread_added} for x in threads], scope=("team_id", self.team_id),
                only_forward=("last_message_at", "last_inbound_at"), increments=("unread_count",))
            await _write(self.conn, statement, "active thread", params)
            for thread in threads:
                thread.unread_added = 0


class PostgresMessageRepository(_Scoped):
    async def add(self, message: Message) -> bool:
        statement = insert(communication_messages).values(m.message_values(message)).on_conflict_do_nothing(
            index_elements=["account_id", "provider_message_id"]).returning(communication_messages.c.id)
        return (await self.conn.execute(statement)).first() is not None

    async def add_many(self, messages: list[Message]) -> set[str]:
        if not messages:
            return set()
        statement, params = insert_rows(communication_messages, [m.message_values(x) for x in messages],
                                        skip_conflicts_on=("account_id", "provider_message_id"),
                                        returning=("provider_message_id",))
        return {r.provider_message_id for r in await self.conn.execute(statement, params)}

    async def by_provider_id(self, account_id: str, provider_message_id: str) -> Message | None:
        c = communication_messages.c
        row = (await self.conn.execute(sa.select(communication_messages).where(
            c.team_id == self.team_id, c.account_id == account_id, c.provider_message_id == provider_message_id
        ))).first()
        return m.row_to_message(row) if row else None

    async def get(self, id: str) -> Message | None:
        c = communication_messages.c
        row = (await self.conn.execute(sa.select(communication_messages).where(
            c.team_id == self.team_id, c.id == id))).first()
        return m.row_to_message(row) if row else None

    async def update_delivery(self, message: Message) -> None:
        c = communication_messages.c
        await self.conn.execute(communication_messages.update().where(c.team_id == self.team_id, c.id == message.id)
                                .values(status=message.status.value, delivered_at=message.delivered_at,
                                        read_at=message.read_at, error_code=message.error_code,
                                        error_message=message.error_message))

    async def mark_deleted(self, message_id: str, at: dt.datetime) -> None:
        c = communication_messages.c
        await self.conn.execute(communication_messages.update().where(
            c.team_id == self.team_id, c.id == message_id, c.deleted_at.is_(None)).values(deleted_at=at))

    async def list_for_thread(self, thread_id: str, limit: int = 50) -> list[Message]:
        c = communication_messages.c
        query = (sa.select(communication_messages).where(c.team_id == self.team_id, c.thread_id == thread_id)
                 .order_by(c.sent_at.desc(), c.id.desc()).limit(limit))
        return [m.row_to_message(r) for r in await self.conn.execute(query)]

    async def page(self, thread_id: str, page: PageRequest) -> Page[Message]:
        c = communication_messages.c
        query = sa.select(communication_messages).where(c.team_id == self.team_id, c.thread_id == thread_id)
        if page.after is not None:
            query = query.where(sa.tuple_(c.sent_at, c.id) < sa.tuple_(page.after.created_at, page.after.id))
        rows = [m.row_to_message(r) for r in await self.conn.execute(
            query.order_by(c.sent_at.desc(), c.id.desc()).limit(page.limit + 1))]
        items = rows[: page.limit]
        more = len(rows) > page.limit
        return Page(tuple(items), Cursor(items[-1].sent_at, items[-1].id).encode() if more else None)

    async def by_idempotency_key(self, key: str) -> Message | None:
        c = communication_messages.c
        row = (await self.conn.execute(sa.select(communication_messages).where(
            c.team_id == self.team_id, c.idempotency_key == key))).first()
        return m.row_to_message(row) if row else None

    async def add_outbound(self, message: Message) -> Message:
        c = communication_messages.c
        statement = insert(communication_messages).values(m.message_values(message)).on_conflict_do_nothing(
            index_elements=["team_id", "idempotency_key"], index_where=c.idempotency_key.is_not(None))
        await self.conn.execute(statement)
        row = (await self.conn.execute(sa.select(communication_messages).where(
            c.team_id == self.team_id, c.idempotency_key == message.idempotency_key))).one()
        return m.row_to_message(row)

    async def claim_due(self, account_id: str, now: dt.datetime, hold: dt.timedelta, limit: int) -> list[Message]:
        c = communication_messages.c
        due = (sa.select(c.id).where(c.team_id == self.team_id, c.account_id == account_id,
                                     c.dispatch == Dispatch.WAITING.value, c.send_after <= now)
               .order_by(c.send_after).limit(limit).with_for_update(skip_locked=True))
        rows = await self.conn.execute(communication_messages.update().where(
            c.team_id == self.team_id, c.id.in_(due.scalar_subquery()),
        ).values(dispatch=Dispatch.SENDING.value, send_after=now + hold).returning(communication_messages))
        return sorted((m.row_to_message(r) for r in rows), key=lambda message: (message.created_at, message.id))

    async def next_send(self, account_id: str) -> dt.datetime | None:
        c = communication_messages.c
        return (await self.conn.execute(sa.select(sa.func.min(c.send_after)).where(
            c.team_id == self.team_id, c.account_id == account_id, c.dispatch == Dispatch.WAITING.value))).scalar()

    async def save_dispatch(self, message: Message) -> None:
        await self.save_dispatches([message])

    async def save_dispatches(self, messages: list[Message]) -> None:
        if not messages:
            return
        c = communication_messages.c
        statement = communication_messages.update().where(
            c.team_id == sa.bindparam("b_team"), c.id == sa.bindparam("b_id")).values(
            provider_message_id=sa.bindparam("b_provider_message_id"), status=sa.bindparam("b_status"),
            dispatch=sa.bindparam("b_dispatch"), send_after=sa.bindparam("b_send_after"),
            send_attempts=sa.bindparam("b_send_attempts"), error_code=sa.bindparam("b_error_code"),
            error_message=sa.bindparam("b_error_message"), sent_at=sa.bindparam("b_sent_at"))
        await self.conn.execute(statement, [{
            "b_team": self.team_id, "b_id": message.id, "b_provider_message_id": message.provider_message_id,
            "b_status": message.status.value, "b_dispatch": message.dispatch.value if message.dispatch else None,
            "b_send_after": message.send_after, "b_send_attempts": message.send_attempts,
            "b_error_code": message.error_code, "b_error_message": message.error_message,
            "b_sent_at": message.sent_at} for message in messages])

    async def sends(self, dispatch: Dispatch, before: dt.datetime, limit: int) -> list[Message]:
        c = communication_messages.c
        rows = await self.conn.execute(sa.select(communication_messages).where(
            c.team_id == self.team_id, c.dispatch == dispatch.value, c.send_after < before,
        ).order_by(c.send_after).limit(limit))
        return [m.row_to_message(r) for r in rows]

    async def add_attachments(self, attachments: list[Attachment]) -> None:
        await _write_rows(self.conn, message_attachments, [m.attachment_values(a) for a in attachments], "attachment")

    async def attachments(self, message_id: str) -> list[Attachment]:
        c = message_attachments.c
        query = (sa.select(message_attachments).where(c.team_id == self.team_id, c.message_id == message_id)
                 .order_by(c.position))
        return [m.row_to_attachment(r) for r in await self.conn.execute(query)]

    async def attachments_of(self, message_ids: list[str]) -> list[Attachment]:
        if not message_ids:
            return []
        c = message_attachments.c
        query = (sa.select(message_attachments)
                 .where(c.team_id == self.team_id, c.message_id == sa.any_(sa.bindparam("messages", message_ids, type_=ARRAY(c.message_id.type))))
                 .order_by(c.message_id, c.position))
        return [m.row_to_attachment(r) for r in await self.conn.execute(query)]

    async def attachment(self, id: str) -> Attachment | None:
        c = message_attachments.c
        row = (await self.conn.execute(sa.select(message_attachments).where(
            c.team_id == self.team_id, c.id == id))).first()
        return m.row_to_attachment(row) if row else None

    async def update_attachment(self, attachment: Attachment) -> None:
        c = message_attachments.c
        values = m.attachment_values(attachment)
        await self.conn.execute(message_attachments.update().where(
            c.team_id == self.team_id, c.id == attachment.id).values(
            {k: values[k] for k in ("storage_path", "content_type", "size", "checksum", "error", "attempts",
                                    "retry_after")}))

    async def due_attachments(self, now: dt.datetime, lease: dt.timedelta, limit: int = 50
                              ) -> list[tuple[Attachment, Message]]:
        a, c = message_attachments.c, communication_messages.c
        due = (sa.select(a.id).where(a.team_id == self.team_id, a.storage_path.is_(None), a.retry_after <= now)
               .order_by(a.retry_after).limit(limit).with_for_update(skip_locked=True))
        leased = (await self.conn.execute(message_attachments.update().where(a.id.in_(due.scalar_subquery()))
                                          .values(retry_after=now + lease).returning(a.id))).scalars().all()
        if not leased:
            return []
        query = (sa.select(message_attachments, *[col.label(f"m_{col.name}") for col in communication_messages.c])
                 .join(communication_messages, sa.and_(c.team_id == a.team_id, c.id == a.message_id))
                 .where(a.team_id == self.team_id, a.id.in_(leased)))
        rows = list(await self.conn.execute(query))
        return [(m.row_to_attachment(r), m.row_to_message(_Prefixed(r, "m_"))) for r in rows]

    async def record_status(self, account_id: str, provider_message_id: str, report: Reported) -> bool:
        statement = insert(message_status_events).values(
            team_id=self.team_id, account_id=account_id, provider_message_id=provider_message_id,
            status=report.status.value, at=report.at, error_code=report.error_code, error_title=report.error_title,
        ).on_conflict_do_nothing().returning(message_status_events.c.id)
        return (await self.conn.execute(statement)).first() is not None

    async def statuses(self, account_id: str, provider_message_id: str) -> list[Reported]:
        c = message_status_events.c
        rows = await self.conn.execute(sa.select(message_status_events).where(
            c.team_id == self.team_id, c.account_id == account_id, c.provider_message_id == provider_message_id
        ).order_by(c.at, c.id))
        return [Reported(DeliveryStatus(r.status), r.at, r.error_code, r.error_title) for r in rows]


_XMIN = sa.cast(sa.cast(sa.func.pg_snapshot_xmin(sa.func.pg_current_snapshot()), sa.Text), sa.BigInteger)


def _position(text: str) -> tuple[int, int]:
    tx, _, id = text.partition(":")
    if not (tx.isdigit() and id.isdigit() and len(text) <= 41):
        raise InvalidInput.single("lastEventId", "is not a position this server gave out")
    return int(tx), int(id)


class PostgresOutbox(_Scoped):
    async def add(self, kind: str, payload: dict[str, Any], at: dt.datetime) -> None:
        await self.conn.execute(outbox.insert().values(team_id=self.team_id, kind=kind, payload=payload,
                                                       occurred_at=at))

    async def add_many(self, events: list[tuple[str, dict[str, Any], dt.datetime]]) -> None:
        await _write_rows(self.conn, outbox, [{"team_id": self.team_id, "kind": kind, "payload": payload,
                                               "occurred_at": at} for kind, payload, at in events], "event")

    async def since(self, after: str | None, limit: int) -> list[OutboxEntry]:
        """Ordered by (writing transaction, id) and only below the snapshot's xmin: every transaction there has
        ended, so no event can still appear before the last one read."""
        c = outbox.c
        rows = await self.conn.execute(sa.select(c.tx, c.id, c.kind, c.payload, c.occurred_at).where(
            c.team_id == self.team_id, sa.tuple_(c.tx, c.id) > sa.tuple_(*_position(after or "0:0")), c.tx < _XMIN,
        ).order_by(c.tx, c.id).limit(limit))
        return [OutboxEntry(f"{r.tx}:{r.id}", r.kind, r.payload, r.occurred_at) for r in rows]

    async def end(self) -> str:
        return f"{await self.conn.scalar(sa.select(_XMIN))}:0"



class _Prefixed:
    """A row's columns under a prefix, read without it (for joined rows)."""

    def __init__(self, row: Any, prefix: str) -> None:
        self._row, self._prefix = row, prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, self._prefix + name)


class PostgresConsentLedger(_Scoped):
    async def add(self, record: ConsentRecord) -> None:
        await _write(self.conn, consent_records.insert().values(
            team_id=self.team_id, contact_id=record.contact_id, channel=record.channel.value,
            status=record.status.value, source=record.source, at=record.at), "consent")

    async def latest(self, contact_id: str, channel: Channel) -> ConsentRecord | None:
        c = consent_records.c
        row = (await self.conn.execute(sa.select(consent_records).where(
            c.team_id == self.team_id, c.contact_id == contact_id, c.channel == channel.value,
        ).order_by(c.at.desc(), c.id.desc()).limit(1))).first()
        return ConsentRecord(row.contact_id, Channel(row.channel), ConsentStatus(row.status), row.source,
                             row.at) if row else None
