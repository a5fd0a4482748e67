"""Outbound messages: an agent's send is decided by the policy engine and queued (once per idempotency key); the
send job then hands it to the provider and records the outcome. A send that may have reached the provider but
was not recorded ends `unknown`, never re-sent by itself."""
from __future__ import annotations

import datetime as dt
import logging
import random
from zoneinfo import ZoneInfo

import attrs

from ...ports.clock import Clock, IdGenerator, PhoneTimezones
from ...ports.providers import ProviderError, ProviderRegistry
from ...ports.storage import BlobStorage
from ...ports.unit_of_work import TeamUnitOfWork, UnitOfWorkFactory
from ..model import audit, events
from ..model.audit import AuditEvent
from ..model.channels import DeliveryStatus, Direction
from ..model.consent import ConsentRecord, ConsentStatus, Purpose
from ..model.errors import InvalidInput, NotFound, PolicyBlocked
from ..model.ids import MessageId, TeamId
from ..model.paging import Page, PageRequest
from ..model.threads import Dispatch, Message, MessageView
from ..model.values import Permission, QuietHours
from ..policies.decision import Allowed, Blocked, Decision, Deferred
from ..policies.outbound import SendContext, decide
from .access import Actor
from .connections import ConnectionService
from .consent import record_consent
from .inbox import visible_thread
from .outbound_content import TemplateUse, content_of, outgoing_of

log = logging.getLogger("commsinbox.outbound")

HOLD = dt.timedelta(minutes=2)  # a send job's hold on a message; past it, the send's outcome is unknown
MAX_ATTEMPTS = 6
FIRST_RETRY = dt.timedelta(seconds=2)


@attrs.frozen
class SendRequest:
    """Text, one stored attachment (`text` is then its caption), or a template with its variables."""

    thread_id: str
    idempotency_key: str
    text: str | None = None
    template: TemplateUse | None = None
    attachment_ids: tuple[str, ...] = attrs.field(default=(), converter=tuple)


@attrs.frozen
class Queued:
    message: Message
    decision: Decision


@attrs.frozen
class OutboundSettings:
    quiet_hours_default: QuietHours
    status_callback_url: str | None = None  # Twilio posts the message's statuses here


@attrs.define
class OutboundService:
    uows: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    providers: ProviderRegistry
    connections: ConnectionService
    settings: OutboundSettings
    storage: BlobStorage
    timezones: PhoneTimezones

    async def send(self, actor: Actor, request: SendRequest) -> Queued:
        """Decides and queues; a blocked send raises PolicyBlocked and writes only its audit entry. The same idempotency key
        returns the message first queued under it."""
        actor.require(Permission.INBOX_WRITE)
        key = _key(request.idempotency_key)
        now = self.clock.now()
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            thread = (await visible_thread(uow, actor, request.thread_id, now)).thread
            account, team = await uow.accounts.get(thread.account_id), await uow.teams.get(actor.team_id)
            if account is None or team is None:
                raise NotFound("thread", request.thread_id)
            content = await content_of(uow, actor, account, self.providers, request.text,
                                       request.template, request.attachment_ids, now)
            consent = await uow.consent.latest(thread.contact_id, thread.channel)
            decision = decide(SendContext(
                now=now, provider=account.provider, purpose=Purpose.REPLY, account_id=account.id, consent=consent,
                last_inbound_at=thread.last_inbound_at, quiet_hours=team.quiet_hours or self.settings.quiet_hours_default,
                team_tz=ZoneInfo(team.timezone), contact_tz=await self._contact_zone(uow, thread.contact_id),
                human_agent=True, reply_grace=team.reply_grace, template=content.template,
                variables=content.variables))
            if isinstance(decision, Blocked):
                await _blocked(uow, actor, thread.id, decision, now)
                raise PolicyBlocked(decision.reason)
            send_after = decision.until if isinstance(decision, Deferred) else now
            tag = decision.tag if isinstance(decision, Allowed) else None
            message = Message(MessageId(self.ids.new_id()), actor.team_id, thread.id, thread.account_id, None,
                              Direction.OUT, content.type, now, DeliveryStatus.QUEUED, now, content=content.text,
                              meta={"sentBy": actor.user_id, **({"tag": tag} if tag else {}), **content.meta},
                              idempotency_key=key, dispatch=Dispatch.WAITING, send_after=send_after)
            stored = await uow.messages.add_outbound(message)
            if stored.id != message.id:  # the key was used before: that message, as it was decided then
                if stored.send_after is not None and stored.send_after > stored.created_at:
                    return Queued(stored, Deferred(stored.send_after, "deferred"))
                return Queued(stored, Allowed())
            await uow.outbox.add(events.MESSAGE_QUEUED, {"messageId": message.id, "threadId": thread.id}, now)
            await uow.commit()
        return Queued(stored, decision)

    async def _contact_zone(self, uow: TeamUnitOfWork, contact_id: str) -> ZoneInfo | None:
        """The contact's own time zone when their number places them in one; quiet hours then follow it."""
        contact = await uow.contacts.get(contact_id)
        zone = self.timezones.zone_of(contact.phone) if contact is not None and contact.phone else None
        return ZoneInfo(zone) if zone else None

    async def list(self, actor: Actor, thread_id: str, page: PageRequest) -> Page[MessageView]:
        """The thread's messages, newest first, each with its stored files."""
        actor.require(Permission.INBOX_READ)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            await visible_thread(uow, actor, thread_id, self.clock.now())
            messages = await uow.messages.page(thread_id, page)
            files = await uow.messages.attachments_of([message.id for message in messages.items])
        views = tuple(MessageView(message, tuple(f for f in files if f.message_id == message.id))
                      for message in messages.items)
        return Page(views, messages.next_cursor)

    async def delivery(self, actor: Actor, id: str) -> tuple[Message, list[tuple[str, dt.datetime, str | None]]]:
        """The message and the statuses the provider reported for it, in order."""
        actor.require(Permission.INBOX_READ)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            message = await uow.messages.get(id)
            if message is None:
                raise NotFound("message", id)
            await visible_thread(uow, actor, message.thread_id, self.clock.now())
            reports = (await uow.messages.statuses(message.account_id, message.provider_message_id)
                       if message.provider_message_id else [])
        return message, [(r.status.value, r.at, r.error_code) for r in reports]

    async def dispatch(self, team_id: str, message_id: str) -> dt.datetime | None:
        """The send job: hands the message to its provider once. Returns when to try again (a transient failure),
        or None when done or not this job's to send."""
        now = self.clock.now()
        async with self.uows.for_team(TeamId(team_id)) as uow:
            message = await uow.messages.claim_send(message_id, now, HOLD)
            if message is None:
                return None
            thread = await uow.threads.get(message.thread_id)
            account = await uow.accounts.get(message.account_id)
            await uow.commit()
        if thread is None or account is None:
            return None
        try:
            outgoing = await outgoing_of(message, thread, self.storage, self.settings.status_callback_url)
            sent = await self.providers.gateway(account.provider).send(self.connections.access(account), outgoing)
        except ProviderError as error:
            return await self._failed(message, error)
        async with self.uows.for_team(TeamId(team_id)) as uow:
            message.provider_message_id, message.dispatch, message.send_after = sent.provider_message_id, \
                Dispatch.DONE, None
            message.send_attempts += 1
            await uow.messages.save_dispatch(message)
            await uow.outbox.add(events.MESSAGE_STATUS_CHANGED, {"messageId": message.id, "threadId": message.thread_id,
                                                                 "status": message.status.value}, self.clock.now())
            await uow.commit()
        return None

    async def _failed(self, message: Message, error: ProviderError) -> dt.datetime | None:
        now, retry_at = self.clock.now(), None
        message.send_attempts += 1
        message.error_code, message.error_message = error.code, str(error)
        if error.ambiguous:
            message.status, message.dispatch, message.send_after = DeliveryStatus.UNKNOWN, Dispatch.DONE, None
        elif error.transient and message.send_attempts < MAX_ATTEMPTS:
            retry_at = now + _backoff(message.send_attempts)
            message.dispatch, message.send_after = Dispatch.WAITING, retry_at
        else:
            message.status, message.dispatch, message.send_after = DeliveryStatus.FAILED, Dispatch.DONE, None
        log.warning("send failed", extra={"messageId": message.id, "code": error.code, "reason": error.reason,
                                          "retryAt": retry_at.isoformat() if retry_at else None})
        async with self.uows.for_team(message.team_id) as uow:
            await uow.messages.save_dispatch(message)
            if error.reason == "opted_out":
                thread = await uow.threads.get(message.thread_id)
                if thread is not None:
                    await record_consent(uow, ConsentRecord(thread.contact_id, thread.channel, ConsentStatus.OPTED_OUT,
                                                            f"provider error {error.code}", now),
                                         audit.PROVIDER, audit.CONSENT_PROVIDER, messageId=message.id,
                                         threadId=thread.id)
            await uow.outbox.add(events.MESSAGE_STATUS_CHANGED, {"messageId": message.id, "threadId": message.thread_id,
                                                                 "status": message.status.value}, now)
            await uow.commit()
        return retry_at

    async def sweep_all(self) -> None:
        """For every team with accounts: interrupted sends become unknown, and due ones are sent."""
        async with self.uows.for_accounts() as uow:
            teams = sorted({route.team_id for route in await uow.routes.accounts()})
        for team_id in teams:
            for message_id in await self.sweep(team_id):
                await self.dispatch(team_id, message_id)

    async def sweep(self, team_id: str) -> list[str]:
        """A send whose job's hold ran out may have reached the provider: it becomes unknown. Returns the ids of
        waiting messages that are due, for their jobs to be deferred again (a job lost in a crash)."""
        now = self.clock.now()
        async with self.uows.for_team(TeamId(team_id)) as uow:
            for message in await uow.messages.sends(Dispatch.SENDING, now, 500):
                message.status, message.dispatch, message.send_after = DeliveryStatus.UNKNOWN, Dispatch.DONE, None
                message.error_message = "the send was interrupted: check with the customer before sending again"
                await uow.messages.save_dispatch(message)
            due = [m.id for m in await uow.messages.sends(Dispatch.WAITING, now, 500)]
            await uow.commit()
        return due


async def _blocked(uow: TeamUnitOfWork, actor: Actor, thread_id: str, decision: Blocked, now: dt.datetime) -> None:
    """A refused send writes its audit entry, and nothing else."""
    await uow.audit.append(AuditEvent(audit.user_actor(actor.user_id), audit.SEND_BLOCKED, f"thread:{thread_id}", now,
                                      {"reason": decision.reason}))
    await uow.commit()


def _backoff(attempt: int) -> dt.timedelta:
    """Exponential with full jitter: up to 2 s, 4 s, 8 s … (capped at 5 minutes)."""
    ceiling = min(FIRST_RETRY * 2 ** (attempt - 1), dt.timedelta(minutes=5))
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 — spreading retries, not security


def _key(value: str) -> str:
    if not value or len(value) > 200 or not value.isprintable():
        raise InvalidInput.single("idempotencyKey", "must be 1 to 200 printable characters")
    return value

