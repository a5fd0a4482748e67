"""In-memory messaging repositories, team-scoped as RLS makes them in PostgreSQL (system stores: `system.py`)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from ...domain.model.accounts import CommunicationAccount
from ...domain.model.channels import Channel
from ...domain.model.consent import ConsentRecord
from ...domain.model.contacts import Contact, Identity
from ...domain.model.errors import Conflict, Forbidden, InvalidInput
from ...domain.model.paging import Cursor, Page, PageRequest
from ...domain.model.threads import Attachment, Dispatch, Message, Thread, ThreadStatus
from ...domain.policies.delivery import Reported
from ...ports.messaging import OutboxEntry, Route
from .store import Transaction
from .system import _ids, _RouteRow



@attrs.define
class _Scoped:
    tx: Transaction
    team_id: str

    def _check(self, row: Any, table: str) -> None:
        if row.team_id != self.team_id:
            raise Forbidden(f"{table}: row belongs to another team")


class MemoryAccountRepository(_Scoped):
    async def add(self, account: CommunicationAccount, extra_routes: list[str] | None = None, *,
                  routed: bool = True) -> None:
        self._check(account, "communication_accounts")
        if any(a.provider == account.provider and a.external_id == account.external_id
               for a in self.tx.rows("communication_accounts").values()):
            raise Conflict(f"{account.provider.value} account {account.external_id} is already connected")
        self.tx.put("communication_accounts", (account.id,), account)
        self.tx.put("account_routes", (account.provider.value, account.external_id),
                    _RouteRow(Route(account.team_id, account.id), active=False))  # listed before it is routed
        if routed:
            await self.route(account, extra_routes)

    async def route(self, account: CommunicationAccount, extra_routes: list[str] | None = None) -> None:
        route = Route(account.team_id, account.id)
        self.tx.put("account_routes", (account.provider.value, account.external_id), _RouteRow(route, True))
        for key in extra_routes or []:
            if (account.provider.value, key) not in self.tx.rows("account_routes"):  # shared: the first keeps it
                self.tx.put("account_routes", (account.provider.value, key), _RouteRow(route, True))

    async def get(self, id: str) -> CommunicationAccount | None:
        row = self.tx.rows("communication_accounts").get((id,))
        return attrs.evolve(row) if row is not None and row.team_id == self.team_id else None

    async def list(self) -> list[CommunicationAccount]:
        return sorted(self.tx.find("communication_accounts", lambda a: a.team_id == self.team_id),
                      key=lambda a: (a.created_at, a.id))

    async def update(self, account: CommunicationAccount) -> None:
        self._check(account, "communication_accounts")
        if await self.get(account.id):
            self.tx.put("communication_accounts", (account.id,), account)

    async def remove(self, id: str) -> bool:
        account = await self.get(id)
        if account is None:
            return False
        for key, row in list(self.tx.rows("account_routes").items()):
            if row.route.account_id == id:
                self.tx.pop("account_routes", key)
        for key, row in list(self.tx.rows("message_templates").items()):  # ON DELETE CASCADE in PostgreSQL
            if row.template.account_id == id:
                self.tx.pop("message_templates", key)
        return self.tx.pop("communication_accounts", (id,))


class MemoryContactRepository(_Scoped):
    async def find(self, identities: list[Identity]) -> Contact | None:
        table = self.tx.rows("contact_identities")
        for identity in identities:
            contact_id = table.get((self.team_id, identity.kind, identity.value))
            if contact_id is not None:
                return await self.get(contact_id.contact_id)
        return None

    async def add(self, contact: Contact, identities: list[Identity]) -> None:
        self._check(contact, "contacts")
        self.tx.put("contacts", (contact.id,), contact)
        await self._add_identities(contact.id, identities)

    async def _add_identities(self, contact_id: str, identities: list[Identity]) -> None:
        for identity in identities:
            key = (self.team_id, identity.kind, identity.value)
            if key not in self.tx.rows("contact_identities"):
                self.tx.put("contact_identities", key, _IdentityRow(self.team_id, contact_id))

    async def get(self, id: str) -> Contact | None:
        row = self.tx.rows("contacts").get((id,))
        return attrs.evolve(row) if row is not None and row.team_id == self.team_id else None

    async def find_many(self, identities: list[Identity]) -> dict[Identity, Contact]:
        found = {}
        for identity in identities:
            row = self.tx.rows("contact_identities").get((self.team_id, identity.kind, identity.value))
            contact = await self.get(row.contact_id) if row is not None else None
            if contact is not None:
                found[identity] = contact
        return found

    async def add_many(self, contacts: list[tuple[Contact, list[Identity]]]) -> None:
        for contact, identities in contacts:
            if any((self.team_id, i.kind, i.value) in self.tx.rows("contact_identities") for i in identities):
                raise Conflict("a contact with one of these identities already exists")
            await self.add(contact, identities)

    async def add_identities_many(self, pairs: list[tuple[str, Identity]]) -> None:
        for contact_id, identity in pairs:
            await self._add_identities(contact_id, [identity])


@attrs.define
class _IdentityRow:
    team_id: str
    contact_id: str


class MemoryThreadRepository(_Scoped):
    async def latest(self, account_id: str, contact_id: str) -> Thread | None:
        rows = self.tx.find("communication_threads", lambda t: t.team_id == self.team_id and
                            t.account_id == account_id and t.contact_id == contact_id)
        return max(rows, key=lambda t: (t.created_at, t.id), default=None)

    async def add(self, thread: Thread) -> None:
        self._check(thread, "communication_threads")
        latest = await self.latest(thread.account_id, thread.contact_id)
        if thread.status is not ThreadStatus.RESOLVED and latest and latest.status is not ThreadStatus.RESOLVED:
            raise Conflict("an active thread already exists for this account and contact")
        self.tx.put("communication_threads", (thread.id,), thread)

    async def get(self, id: str) -> Thread | None:
        row = self.tx.rows("communication_threads").get((id,))
        return attrs.evolve(row) if row is not None and row.team_id == self.team_id else None

    async def get_many(self, ids: list[str]) -> dict[str, Thread]:
        return {thread.id: thread for thread in [await self.get(id) for id in ids] if thread is not None}

    async def update(self, thread: Thread) -> None:
        self._check(thread, "communication_threads")
        self.tx.put("communication_threads", (thread.id,), thread)

    async def latest_many(self, account_id: str, contact_ids: list[str]) -> dict[str, Thread]:
        found = {c: await self.latest(account_id, c) for c in dict.fromkeys(contact_ids)}
        return {c: t for c, t in found.items() if t is not None}

    async def add_many(self, threads: list[Thread]) -> None:
        for thread in threads:
            await self.add(thread)

    async def update_many(self, threads: list[Thread]) -> None:
        """As in PostgreSQL: status, snooze, times (never backwards) and unread count (an increment)."""
        for thread in threads:
            stored = self.tx.rows("communication_threads").get((thread.id,))
            if stored is None or stored.team_id != self.team_id:
                continue
            self.tx.put("communication_threads", (thread.id,), attrs.evolve(
                stored, status=thread.status, snoozed_until=thread.snoozed_until,
                last_message_at=max(stored.last_message_at, thread.last_message_at),
                last_inbound_at=max(filter(None, (stored.last_inbound_at, thread.last_inbound_at)), default=None),
                unread_count=stored.unread_count + thread.unread_added, unread_added=0))
            thread.unread_added = 0


class MemoryMessageRepository(_Scoped):
    async def add(self, message: Message) -> bool:
        self._check(message, "communication_messages")
        if message.provider_message_id is not None and await self.by_provider_id(
                message.account_id, message.provider_message_id, any_team=True):
            return False
        self.tx.put("communication_messages", (message.id,), message)
        return True

    async def by_provider_id(self, account_id: str, provider_message_id: str, *, any_team: bool = False
                             ) -> Message | None:
        return next(self.tx.find("communication_messages", lambda m: (any_team or m.team_id == self.team_id) and
                                 m.account_id == account_id and m.provider_message_id == provider_message_id), None)

    async def add_many(self, messages: list[Message]) -> set[str]:
        return {m.provider_message_id for m in messages if await self.add(m)}

    async def get(self, id: str) -> Message | None:
        row = self.tx.rows("communication_messages").get((id,))
        return attrs.evolve(row) if row is not None and row.team_id == self.team_id else None

    async def update_delivery(self, message: Message) -> None:
        self._check(message, "communication_messages")
        self.tx.put("communication_messages", (message.id,), message)

    async def mark_deleted(self, message_id: str, at: dt.datetime) -> None:
        message = await self.get(message_id)
        if message is not None and message.deleted_at is None:
            self.tx.put("communication_messages", (message_id,), attrs.evolve(message, deleted_at=at))

    async def page(self, thread_id: str, page: PageRequest) -> Page[Message]:
        rows = sorted(self.tx.find("communication_messages", lambda m: m.team_id == self.team_id and
                                   m.thread_id == thread_id), key=lambda m: (m.sent_at, m.id), reverse=True)
        if page.after is not None:
            rows = [r for r in rows if (r.sent_at, r.id) < (page.after.created_at, page.after.id)]
        items = rows[: page.limit]
        more = len(rows) > page.limit
        return Page(tuple(items), Cursor(items[-1].sent_at, items[-1].id).encode() if more else None)

    async def by_idempotency_key(self, key: str) -> Message | None:
        found = next(self.tx.find("communication_messages", lambda m: m.team_id == self.team_id and
                                  m.idempotency_key == key), None)
        return attrs.evolve(found) if found is not None else None

    async def add_outbound(self, message: Message) -> Message:
        self._check(message, "communication_messages")
        await self.tx.lock(("idempotency", self.team_id, message.idempotency_key))
        found = next(self.tx.find("communication_messages", lambda m: m.team_id == self.team_id and
                                  m.idempotency_key == message.idempotency_key), None)
        if found is not None:
            return found
        self.tx.put("communication_messages", (message.id,), message)
        return attrs.evolve(message)

    async def _claim(self, id: str, now: dt.datetime, hold: dt.timedelta) -> Message | None:
        await self.tx.lock(("send", id))
        message = await self.get(id)
        if message is None or message.dispatch is not Dispatch.WAITING or message.send_after is None \
                or message.send_after > now:
            return None
        message.dispatch, message.send_after = Dispatch.SENDING, now + hold
        self.tx.put("communication_messages", (id,), message)
        return attrs.evolve(message)

    async def claim_due(self, account_id: str, now: dt.datetime, hold: dt.timedelta, limit: int) -> list[Message]:
        due = sorted(self.tx.find("communication_messages", lambda m: m.team_id == self.team_id and
                                  m.account_id == account_id and m.dispatch is Dispatch.WAITING and
                                  m.send_after is not None and m.send_after <= now),
                     key=lambda m: m.send_after)[:limit]
        claimed = [m for m in [await self._claim(m.id, now, hold) for m in due] if m is not None]
        return sorted(claimed, key=lambda message: (message.created_at, message.id))

    async def next_send(self, account_id: str) -> dt.datetime | None:
        return min((m.send_after for m in self.tx.find(
            "communication_messages", lambda m: m.team_id == self.team_id and m.account_id == account_id and
            m.dispatch is Dispatch.WAITING and m.send_after is not None)), default=None)

    async def save_dispatch(self, message: Message) -> None:
        self._check(message, "communication_messages")
        stored = await self.get(message.id)
        if stored is not None:
            self.tx.put("communication_messages", (message.id,), attrs.evolve(
                stored, provider_message_id=message.provider_message_id, status=message.status,
                dispatch=message.dispatch, send_after=message.send_after, send_attempts=message.send_attempts,
                error_code=message.error_code, error_message=message.error_message, sent_at=message.sent_at))

    async def save_dispatches(self, messages: list[Message]) -> None:
        for message in messages:
            await self.save_dispatch(message)

    async def sends(self, dispatch: Dispatch, before: dt.datetime, limit: int) -> list[Message]:
        rows = self.tx.find("communication_messages", lambda m: m.team_id == self.team_id and
                            m.dispatch is dispatch and m.send_after is not None and m.send_after < before)
        return sorted(rows, key=lambda m: m.send_after)[:limit]  # type: ignore[arg-type,return-value]

    async def list_for_thread(self, thread_id: str, limit: int = 50) -> list[Message]:
        rows = self.tx.find("communication_messages", lambda m: m.team_id == self.team_id and m.thread_id == thread_id)
        return sorted(rows, key=lambda m: (m.sent_at, m.id), reverse=True)[:limit]

    async def add_attachments(self, attachments: list[Attachment]) -> None:
        for attachment in attachments:
            self._check(attachment, "message_attachments")
            self.tx.put("message_attachments", (attachment.id,), attachment)

    async def attachments(self, message_id: str) -> list[Attachment]:
        rows = self.tx.find("message_attachments", lambda a: a.team_id == self.team_id and a.message_id == message_id)
        return sorted(rows, key=lambda a: a.position)

    async def attachments_of(self, message_ids: list[str]) -> list[Attachment]:
        wanted = set(message_ids)
        rows = self.tx.find("message_attachments", lambda a: a.team_id == self.team_id and a.message_id in wanted)
        return sorted(rows, key=lambda a: (a.message_id, a.position))

    async def attachment(self, id: str) -> Attachment | None:
        row = self.tx.rows("message_attachments").get((id,))
        return attrs.evolve(row) if row is not None and row.team_id == self.team_id else None

    async def update_attachment(self, attachment: Attachment) -> None:
        self._check(attachment, "message_attachments")
        self.tx.put("message_attachments", (attachment.id,), attachment)

    async def due_attachments(self, now: dt.datetime, lease: dt.timedelta, limit: int = 50
                              ) -> list[tuple[Attachment, Message]]:
        due = sorted(self.tx.find("message_attachments", lambda a: a.team_id == self.team_id and
                                  a.storage_path is None and a.retry_after is not None and a.retry_after <= now),
                     key=lambda a: a.retry_after)[:limit]
        leased = []
        for attachment in due:
            attachment.retry_after = now + lease
            self.tx.put("message_attachments", (attachment.id,), attachment)
            if (message := await self.get(attachment.message_id)) is not None:
                leased.append((attachment, message))
        return leased

    async def record_status(self, account_id: str, provider_message_id: str, report: Reported) -> bool:
        key = (account_id, provider_message_id, report.status.value)
        if key in self.tx.rows("message_status_events"):
            return False
        self.tx.put("message_status_events", key, _StatusRow(self.team_id, report))
        return True

    async def statuses(self, account_id: str, provider_message_id: str) -> list[Reported]:
        return sorted((row.report for key, row in self.tx.rows("message_status_events").items()
                       if key[:2] == (account_id, provider_message_id) and row.team_id == self.team_id),
                      key=lambda r: (r.at, r.status.rank))


@attrs.define
class _StatusRow:
    team_id: str
    report: Reported


class MemoryOutbox(_Scoped):
    async def add(self, kind: str, payload: dict[str, Any], at: dt.datetime) -> None:
        self.tx.put("outbox", (next(_ids),), _OutboxRow(self.team_id, kind, payload, at))

    async def add_many(self, events: list[tuple[str, dict[str, Any], dt.datetime]]) -> None:
        for kind, payload, at in events:
            await self.add(kind, payload, at)

    async def since(self, after: str | None, limit: int) -> list[OutboxEntry]:
        after = after or "0"
        if not after.isdigit() or len(after) > 20:
            raise InvalidInput.single("lastEventId", "is not a position this server gave out")
        rows = sorted((k[0], r) for k, r in self.tx.db.table("outbox").items()
                      if r.team_id == self.team_id and k[0] > int(after))
        return [OutboxEntry(str(id), r.kind, r.payload, r.occurred_at) for id, r in rows[:limit]]

    async def end(self) -> str:
        return str(max((k[0] for k in self.tx.db.table("outbox")), default=0))



@attrs.define
class _OutboxRow:
    team_id: str
    kind: str
    payload: dict[str, Any]
    occurred_at: dt.datetime


class MemoryConsentLedger(_Scoped):
    async def add(self, record: ConsentRecord) -> None:
        self.tx.put("consent_records", (next(_ids),), _ConsentRow(self.team_id, record))

    async def latest(self, contact_id: str, channel: Channel) -> ConsentRecord | None:
        rows = [(r.record.at, k[0], r.record) for k, r in self.tx.rows("consent_records").items()
                if r.team_id == self.team_id and r.record.contact_id == contact_id and r.record.channel is channel]
        return max(rows, key=lambda row: row[:2])[2] if rows else None


@attrs.frozen
class _ConsentRow:
    team_id: str
    record: ConsentRecord
