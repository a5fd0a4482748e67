"""Labels a team puts on threads, and links from threads to the team's business records."""
from __future__ import annotations

import datetime as dt
import enum

import attrs

from .contacts import Contact
from .ids import LabelId, TeamId
from .threads import Thread


@attrs.define
class Label:
    id: LabelId
    team_id: TeamId
    name: str  # unique per team, case-insensitively
    created_at: dt.datetime


class RecordType(enum.StrEnum):
    CLIENT = "client"
    ORDER = "order"
    INVOICE = "invoice"
    TRANSACTION = "transaction"


@attrs.frozen
class ThreadLink:
    record_type: RecordType
    record_id: str


@attrs.frozen
class ThreadFilter:
    """What threads.list narrows by; every given criterion must hold (a thread must carry all `label_ids`)."""

    status: str | None = None  # a ThreadStatus value, as read at `now` (a due snooze reads as open)
    label_ids: tuple[str, ...] = ()
    assignee_id: str | None = None
    account_id: str | None = None
    contact_id: str | None = None
    unread: bool | None = None
    link: ThreadLink | None = None
    query: str | None = None  # what search.py matches: the contact's name or phone, or a message's words
    visible_to: str | None = None  # only threads assigned to this user (and unassigned ones when `with_unassigned`)
    with_unassigned: bool = True


@attrs.frozen
class ThreadView:
    """A thread as the inbox shows it: with its contact, labels and links."""

    thread: Thread
    contact: Contact
    labels: tuple[Label, ...] = ()
    links: tuple[ThreadLink, ...] = ()
