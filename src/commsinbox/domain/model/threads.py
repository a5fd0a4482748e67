"""Thread (a conversation with one contact through one account) and its messages."""
from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import attrs

from .channels import Channel, DeliveryStatus, Direction, MessageType
from .errors import InvalidInput
from .ids import AccountId, ContactId, MessageId, TeamId, ThreadId, UserId


class ThreadStatus(enum.StrEnum):
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    SNOOZED = "snoozed"


@attrs.define
class Thread:
    id: ThreadId
    team_id: TeamId
    account_id: AccountId
    contact_id: ContactId
    channel: Channel
    external_contact_id: str
    status: ThreadStatus
    last_message_at: dt.datetime
    created_at: dt.datetime
    last_inbound_at: dt.datetime | None = None
    assignee_id: UserId | None = None
    snoozed_until: dt.datetime | None = None
    unread_count: int = 0
    # inbound messages counted since the thread was read: saved as an increment, so concurrent writers add up
    unread_added: int = attrs.field(default=0, eq=False)

    def record(self, direction: Direction, at: dt.datetime) -> bool:
        """Notes a new message; an inbound one is unread and reopens a snoozed or pending thread.
        True if it reopened."""
        self.last_message_at = max(self.last_message_at, at)
        if direction is not Direction.IN:
            return False
        self.last_inbound_at = max(self.last_inbound_at or at, at)
        self.unread_count += 1
        self.unread_added += 1
        if self.status in (ThreadStatus.SNOOZED, ThreadStatus.PENDING):
            self.status, self.snoozed_until = ThreadStatus.OPEN, None
            return True
        return False

    def status_at(self, now: dt.datetime) -> ThreadStatus:
        """A snoozed thread whose time has come reads as open (the wake-up needs no job)."""
        if self.status is ThreadStatus.SNOOZED and (self.snoozed_until is None or self.snoozed_until <= now):
            return ThreadStatus.OPEN
        return self.status

    def set_status(self, status: ThreadStatus, now: dt.datetime, snoozed_until: dt.datetime | None = None) -> None:
        if status is ThreadStatus.SNOOZED:
            if snoozed_until is None:
                raise InvalidInput.single("snoozedUntil", "is required to snooze a thread")
            if snoozed_until <= now:
                raise InvalidInput.single("snoozedUntil", "must be in the future")
        self.status = status
        self.snoozed_until = snoozed_until if status is ThreadStatus.SNOOZED else None

    def mark_read(self) -> None:
        self.unread_count = 0


@attrs.frozen
class MessageView:
    """A message as a thread's listing shows it: with its stored files."""

    message: Message
    attachments: tuple[Attachment, ...] = ()


@attrs.define
class Message:
    id: MessageId
    team_id: TeamId
    thread_id: ThreadId
    account_id: AccountId
    provider_message_id: str | None  # None: outbound, not accepted by the provider yet
    direction: Direction
    type: MessageType
    sent_at: dt.datetime
    status: DeliveryStatus
    created_at: dt.datetime
    content: str | None = None
    meta: dict[str, Any] = attrs.field(factory=dict)
    delivered_at: dt.datetime | None = None
    read_at: dt.datetime | None = None
    deleted_at: dt.datetime | None = None
    error_code: str | None = None
    error_message: str | None = None
    idempotency_key: str | None = None  # outbound: the client's key; one send per key
    dispatch: Dispatch | None = None  # outbound: where the send job stands
    send_after: dt.datetime | None = None  # outbound: when the send job may take it (again)
    send_attempts: int = 0


class Dispatch(enum.StrEnum):
    """An outbound message's send: waiting (for its time, the rate cap or a retry), sending (a job holds it until
    `send_after`), done (accepted, failed, or unknown). A `sending` whose hold ran out may have reached the
    provider: it becomes unknown, never re-sent by itself."""

    WAITING = "waiting"
    SENDING = "sending"
    DONE = "done"


@attrs.define
class Attachment:
    id: str
    team_id: TeamId
    message_id: MessageId
    position: int
    kind: MessageType
    source: dict[str, Any]  # the MediaRef it came from: provider media id or URL, content type, sha256 …
    created_at: dt.datetime
    storage_path: str | None = None
    content_type: str | None = None
    size: int | None = None
    checksum: str | None = None
    error: str | None = None
    attempts: int = 0
    retry_after: dt.datetime | None = None  # when a download may be tried (again); None: stored, or given up
