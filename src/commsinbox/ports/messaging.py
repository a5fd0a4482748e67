"""Repository ports for messaging. Team-scoped ones live on the team unit of work; routing and raw inbound
events are system-level (the team is not known until the account is found)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

import attrs

from ..domain.model.accounts import CommunicationAccount
from ..domain.model.channels import Channel, Provider
from ..domain.model.consent import ConsentRecord
from ..domain.model.contacts import Contact, Identity
from ..domain.model.ids import AccountId, ContactId, MessageId, TeamId, ThreadId
from ..domain.model.paging import Page, PageRequest
from ..domain.model.threads import Attachment, Dispatch, Message, Thread
from ..domain.policies.delivery import Reported


class AccountRepository(Protocol):
    async def add(self, account: CommunicationAccount, extra_routes: list[str] | None = None, *,
                  routed: bool = True) -> None:
        """Adds the account (`Conflict` when any team has connected its external id already) and, if `routed`,
        its webhook routes (see `route`)."""
        ...

    async def route(self, account: CommunicationAccount, extra_routes: list[str] | None = None) -> None:
        """Routes webhooks to the account: its external id, and shared keys such as its WhatsApp Business
        Account for template events, which stay with the first account that named them. Idempotent."""
        ...

    async def get(self, id: str) -> CommunicationAccount | None: ...

    async def list(self) -> list[CommunicationAccount]: ...

    async def update(self, account: CommunicationAccount) -> None: ...

    async def remove(self, id: str) -> bool:
        """Removes the account and all its webhook routes."""
        ...


class ContactRepository(Protocol):
    async def find(self, identities: list[Identity]) -> Contact | None:
        """The contact any of these identities belongs to."""
        ...

    async def add(self, contact: Contact, identities: list[Identity]) -> None: ...

    async def get(self, id: str) -> Contact | None: ...

    async def find_many(self, identities: list[Identity]) -> dict[Identity, Contact]:
        """For each identity that belongs to a contact, that contact (one query for a whole batch)."""
        ...

    async def add_many(self, contacts: list[tuple[Contact, list[Identity]]]) -> None: ...

    async def add_identities_many(self, pairs: list[tuple[ContactId, Identity]]) -> None:
        """Adds the identities not yet known (idempotent)."""
        ...


class ThreadRepository(Protocol):
    async def latest(self, account_id: AccountId, contact_id: ContactId) -> Thread | None:
        """The newest thread for this account and contact, whatever its status."""
        ...

    async def add(self, thread: Thread) -> None: ...

    async def get(self, id: str) -> Thread | None: ...

    async def get_many(self, ids: list[str]) -> dict[str, Thread]:
        """The team's threads among `ids`, by id (missing ones left out)."""
        ...

    async def update(self, thread: Thread) -> None: ...

    async def latest_many(self, account_id: AccountId, contact_ids: list[ContactId]) -> dict[ContactId, Thread]: ...

    async def add_many(self, threads: list[Thread]) -> None: ...

    async def update_many(self, threads: list[Thread]) -> None:
        """Saves status, snooze time, last message and last inbound times, and adds `unread_added` to the
        stored unread count (then zeroes it)."""
        ...


class MessageRepository(Protocol):
    async def add(self, message: Message) -> bool:
        """Inserts unless (account, provider message id) exists: False for a duplicate, which is a no-op."""
        ...

    async def by_provider_id(self, account_id: AccountId, provider_message_id: str) -> Message | None: ...

    async def add_many(self, messages: list[Message]) -> set[str]:
        """Inserts those not stored yet; returns the provider ids actually inserted (duplicates are no-ops)."""
        ...

    async def get(self, id: str) -> Message | None: ...

    async def update_delivery(self, message: Message) -> None: ...

    async def mark_deleted(self, message_id: MessageId, at: dt.datetime) -> None: ...

    async def list_for_thread(self, thread_id: ThreadId, limit: int = 50) -> list[Message]: ...

    async def page(self, thread_id: str, page: PageRequest) -> Page[Message]:
        """Newest first by (sent_at, id)."""
        ...

    async def by_idempotency_key(self, key: str) -> Message | None:
        """The team's message first queued under this client key, if any."""
        ...

    async def add_outbound(self, message: Message) -> Message:
        """Queues an outbound message; when its idempotency key was used before, the message already stored."""
        ...

    async def claim_due(self, account_id: str, now: dt.datetime, hold: dt.timedelta, limit: int) -> list[Message]:
        """Up to `limit` of the account's waiting and due messages, oldest due first, → sending until `now + hold`;
        messages another transaction is claiming are skipped, not waited for."""
        ...

    async def next_send(self, account_id: str) -> dt.datetime | None:
        """When the account's earliest waiting message is due (None: none waits)."""
        ...

    async def save_dispatch(self, message: Message) -> None:
        """Saves the send's outcome: provider id, status, dispatch, send_after, attempts and error."""
        ...

    async def save_dispatches(self, messages: list[Message]) -> None:
        """`save_dispatch` for each (a send job's batch, in one round trip where the store allows)."""
        ...

    async def sends(self, dispatch: Dispatch, before: dt.datetime, limit: int) -> list[Message]:
        """Outbound messages in `dispatch` whose `send_after` is before `before`, oldest first."""
        ...

    async def add_attachments(self, attachments: list[Attachment]) -> None: ...

    async def attachments(self, message_id: MessageId) -> list[Attachment]: ...

    async def attachment(self, id: str) -> Attachment | None: ...

    async def attachments_of(self, message_ids: list[str]) -> list[Attachment]:
        """The attachments of all these messages, by message and position."""
        ...

    async def update_attachment(self, attachment: Attachment) -> None: ...

    async def due_attachments(self, now: dt.datetime, lease: dt.timedelta, limit: int = 50
                              ) -> list[tuple[Attachment, Message]]:
        """Attachments not stored yet whose (next) download is due, with their messages; each is leased until
        `now + lease` so that other processes' sweeps skip it."""
        ...

    async def record_status(self, account_id: AccountId, provider_message_id: str, report: Reported) -> bool:
        """Keeps a reported status (even before its message exists); False if it was already recorded."""
        ...

    async def statuses(self, account_id: AccountId, provider_message_id: str) -> list[Reported]: ...


class ConsentLedger(Protocol):
    async def add(self, record: ConsentRecord) -> None: ...

    async def latest(self, contact_id: str, channel: Channel) -> ConsentRecord | None: ...


@attrs.frozen
class OutboxEntry:
    position: str  # opaque; orders the team's events in the order they became visible
    kind: str
    payload: dict[str, Any]
    occurred_at: dt.datetime


class Outbox(Protocol):
    async def add(self, kind: str, payload: dict[str, Any], at: dt.datetime) -> None: ...

    async def since(self, after: str | None, limit: int) -> list[OutboxEntry]:
        """The team's events after position `after` (None: from the first), in order. An event is listed only once every event that
        could be ordered before it is visible, so reading on from the last position never skips one.
        Raises InvalidInput("lastEventId") for a position this store never gave out."""
        ...

    async def end(self) -> str:
        """A position after every event visible now (events committed from now on come after it)."""
        ...

    async def add_many(self, events: list[tuple[str, dict[str, Any], dt.datetime]]) -> None: ...



@attrs.frozen
class Route:
    team_id: TeamId
    account_id: AccountId


@attrs.frozen
class RawEvent:
    id: int
    provider: Provider
    content_type: str
    body: bytes
    received_at: dt.datetime
    attempts: int


class RouteRepository(Protocol):
    async def find(self, provider: Provider, external_id: str) -> Route | None: ...

    async def accounts(self) -> list[Route]:
        """Every connected account of every team (operators' tools such as key rotation)."""
        ...


class InboundEventStore(Protocol):
    async def store(self, provider: Provider, event_key: str, content_type: str, body: bytes,
                    received_at: dt.datetime, *, lease: dt.timedelta, claimed: bool = False) -> int | None:
        """Keeps the raw event durably; None when the same event was stored before (a provider retry).
        It is not due for a retry before `received_at + lease` (the storing request processes it meanwhile);
        `claimed`: that first attempt is counted."""
        ...

    async def claim(self, ids: list[int] | None = None, *, now: dt.datetime, lease: dt.timedelta,
                    limit: int = 100, max_attempts: int = 10) -> list[RawEvent]:
        """Counts an attempt on events to (re)process: the given ids, or else pending and failed ones that are
        due with fewer than `max_attempts` attempts; each is leased until `now + lease` so that concurrent
        claimers (other processes) skip it."""
        ...

    async def finish(self, id: int, state: str, error: str | None = None, account_keys: list[str] | None = None,
                     retry_at: dt.datetime | None = None) -> None:
        """`retry_at`: when a failed event is due again (its backoff)."""
        ...

    async def unrouted(self, provider: Provider, account_key: str) -> list[int]: ...


class KeyringCanaries(Protocol):
    async def all(self) -> dict[str, str]:
        """key id → a value sealed under that key."""
        ...

    async def add(self, key_id: str, sealed: str, at: dt.datetime) -> None: ...

    async def retire_all_but(self, key_id: str) -> None:
        """After a rotation nothing is sealed under older keys: they may leave the keyring."""
        ...
