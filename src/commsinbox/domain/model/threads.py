"""Thread (a conversation with one contact through one account) and its messages."""
from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import attrs

from .channels import Channel, DeliveryStatus, Direction, MessageType
from .ids import AccountId, ContactId, MessageId, TeamId, ThreadId


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

    def record(self, direction: Direction, at: dt.datetime) -> bool:
        """Notes a new message; an inbound one reopens a snoozed or pending thread. True if it reopened."""
        self.last_message_at = max(self.last_message_at, at)
        if direction is not Direction.IN:
            return False
        self.last_inbound_at = max(self.last_inbound_at or at, at)
        if self.status in (ThreadStatus.SNOOZED, ThreadStatus.PENDING):
            self.status = ThreadStatus.OPEN
            return True
        return False


@attrs.define
class Message:
    id: MessageId
    team_id: TeamId
    thread_id: ThreadId
    account_id: AccountId
    provider_message_id: str
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
