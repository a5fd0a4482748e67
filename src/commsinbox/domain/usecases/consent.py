"""The consent ledger through the API, and the changes inbound keywords and provider errors make to it.

Every change is one ledger record, one `consent.changed` outbox event and one audit entry, in one transaction
(`record_consent`)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs

from ...ports.clock import Clock
from ...ports.unit_of_work import TeamUnitOfWork, UnitOfWorkFactory
from ..model import audit, events
from ..model.audit import AuditEvent
from ..model.channels import Channel
from ..model.consent import (
    KEYWORDS_SETTING,
    MAX_KEYWORD_LENGTH,
    ConsentRecord,
    ConsentStatus,
    keyword_change,
    keyword_consent,
    normalise_keyword,
    team_keywords,
)
from ..model.errors import InvalidInput, NotFound
from ..model.threads import Thread
from ..model.values import Permission
from .access import Actor

API_SOURCE = "api"
RESERVED_SOURCES = ("keyword:", "provider")  # only the product writes these
MAX_SOURCE_LENGTH = 100


@attrs.frozen
class ConsentState:
    """A contact's consent on a channel: the latest record, or all None when there is none (unknown: a reply to
    a customer who wrote is allowed, marketing is not)."""

    status: ConsentStatus | None
    at: dt.datetime | None
    source: str | None

    @classmethod
    def of(cls, record: ConsentRecord | None) -> ConsentState:
        return cls(record.status, record.at, record.source) if record else cls(None, None, None)


@attrs.frozen
class KeywordMessage:
    """An inbound message stored now (never on a redelivery), which may be a STOP / START keyword."""

    thread: Thread
    message_id: str
    text: str
    at: dt.datetime


@attrs.define
class ConsentService:
    uows: UnitOfWorkFactory
    clock: Clock

    async def get(self, actor: Actor, contact_id: str, channel: str) -> ConsentState:
        actor.require(Permission.INBOX_READ)
        where = channel_of(channel)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            await _contact(uow, contact_id)
            return ConsentState.of(await uow.consent.latest(contact_id, where))

    async def set(self, actor: Actor, contact_id: str, channel: str, status: str | None,
                  source: str | None = None) -> ConsentState:
        """Records a new ledger entry, even when the status is unchanged (the ledger keeps every statement)."""
        actor.require(Permission.INBOX_WRITE)
        record = ConsentRecord(contact_id, channel_of(channel), _status(status), _source(source), self.clock.now())
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            await _contact(uow, contact_id)
            await record_consent(uow, record, audit.user_actor(actor.user_id), audit.CONSENT_SET)
            await uow.commit()
        return ConsentState.of(record)


async def record_consent(uow: TeamUnitOfWork, record: ConsentRecord, actor: str, action: str,
                         **details: str) -> None:
    """The ledger record, its outbox event and its audit entry, in the caller's transaction."""
    await uow.consent.add(record)
    change = {"contactId": record.contact_id, "channel": record.channel.value, "status": record.status.value,
              "source": record.source}
    await uow.outbox.add(events.CONSENT_CHANGED, {**change, **details}, record.at)
    await uow.audit.append(AuditEvent(actor, action, f"contact:{record.contact_id}", record.at,
                                      {**change, **details}))


async def record_keywords(uow: TeamUnitOfWork, messages: Sequence[KeywordMessage]) -> None:
    """Opt-outs and opt-ins the inbound messages call for (`keyword_change`), at each message's time, with the
    source `keyword:<WORD>`. Only messages that could be a keyword cost a lookup of the team's keywords."""
    candidates = [m for m in messages if 0 < len(normalise_keyword(m.text)) <= MAX_KEYWORD_LENGTH]
    if not candidates:
        return
    keywords = team_keywords(await uow.settings.get(KEYWORDS_SETTING))
    for message in sorted(candidates, key=lambda m: m.at):
        if keyword_consent(message.text, keywords) is None:
            continue
        contact, channel = message.thread.contact_id, message.thread.channel
        status = keyword_change(message.text, keywords, await uow.consent.latest(contact, channel))
        if status is not None:
            record = ConsentRecord(contact, channel, status, f"keyword:{normalise_keyword(message.text)}", message.at)
            await record_consent(uow, record, audit.KEYWORD, audit.CONSENT_KEYWORD,
                                 threadId=message.thread.id, messageId=message.message_id)


def channel_of(value: str) -> Channel:
    try:
        return Channel(value)
    except ValueError:
        raise InvalidInput.single("channel", "must be one of " + ", ".join(c.value for c in Channel)) from None


def _status(value: str | None) -> ConsentStatus:
    try:
        return ConsentStatus(value)
    except ValueError:
        raise InvalidInput.single("status", "must be opted_in or opted_out") from None


def _source(value: str | None) -> str:
    if value is None:
        return API_SOURCE
    text = value.strip()
    if not text or len(text) > MAX_SOURCE_LENGTH or not text.isprintable():
        raise InvalidInput.single("source", f"must be 1 to {MAX_SOURCE_LENGTH} printable characters, e.g. form")
    if text.lower().startswith(RESERVED_SOURCES):
        raise InvalidInput.single("source", "keyword: and provider sources are recorded by the product only")
    return text


async def _contact(uow: TeamUnitOfWork, contact_id: str) -> None:
    if await uow.contacts.get(contact_id) is None:
        raise NotFound("contact", contact_id)
