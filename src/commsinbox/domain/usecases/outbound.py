"""Outbound messages: an agent's send is decided by the policy engine and queued (once per idempotency key), and
the account's send job is deferred (`usecases.dispatch` hands it to the provider and records the outcome). A send
that may have reached the provider but was not recorded ends `unknown`, never re-sent by itself."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import attrs

from ...ports.clock import Clock, IdGenerator, PhoneTimezones
from ...ports.jobs import JobQueue
from ...ports.providers import ProviderRegistry
from ...ports.unit_of_work import TeamUnitOfWork, UnitOfWorkFactory
from ..model import audit, events
from ..model.accounts import CommunicationAccount
from ..model.audit import AuditEvent
from ..model.channels import DeliveryStatus, Direction
from ..model.consent import Purpose
from ..model.errors import InvalidInput, NotFound, PolicyBlocked
from ..model.ids import MessageId
from ..model.paging import Page, PageRequest
from ..model.teams import Team
from ..model.templates import Template
from ..model.threads import Dispatch, Message, MessageView, Thread
from ..model.values import Permission, QuietHours
from ..policies.decision import TEMPLATE_NOT_APPROVED, Allowed, Blocked, Decision, Deferred
from ..policies.outbound import SendContext, decide
from .access import Actor
from .inbox import visible_thread
from .outbound_content import TemplateUse, content_of

HOLD = dt.timedelta(minutes=2)  # a send job's hold on a message; past it, the send's outcome is unknown
MAX_ATTEMPTS = 6  # provider calls for one message, transient failures included
SEND_TASK = "outbound.send"  # the send job (usecases.dispatch.SendDispatcher.run), per team and account


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
    settings: OutboundSettings
    timezones: PhoneTimezones
    jobs: JobQueue

    async def send(self, actor: Actor, request: SendRequest) -> Queued:
        """Decides and queues; a blocked send raises PolicyBlocked and writes only its audit entry. The same
        idempotency key returns the message first queued under it."""
        actor.require(Permission.INBOX_WRITE)
        key = _key(request.idempotency_key)
        now = self.clock.now()
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            thread = (await visible_thread(uow, actor, request.thread_id, now)).thread
            if (earlier := await uow.messages.by_idempotency_key(key)) is not None:
                return _as_decided(earlier)  # a retry of the client's request: never decided (or sent) twice
            account, team = await uow.accounts.get(thread.account_id), await uow.teams.get(actor.team_id)
            if account is None or team is None:
                raise NotFound("thread", request.thread_id)
            content = await content_of(uow, actor, account, self.providers, request.text,
                                       request.template, request.attachment_ids, now)
            decision = decide(await send_context(uow, self.settings, self.timezones, account, team, thread, now,
                                                 content.template, content.variables))
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
            if stored.id != message.id:  # the same key committed by a concurrent request meanwhile
                return _as_decided(stored)
            await uow.outbox.add(events.MESSAGE_QUEUED, {"messageId": message.id, "threadId": thread.id}, now)
            await uow.commit()
        # After the commit (the job runs on another connection); a defer lost in a crash is the sweep's to redo.
        await schedule_send(self.jobs, actor.team_id, thread.account_id, send_after, now)
        return Queued(stored, decision)

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


def _as_decided(message: Message) -> Queued:
    """A message queued earlier under the same key, with the decision it had then."""
    if message.send_after is not None and message.send_after > message.created_at:
        return Queued(message, Deferred(message.send_after, "deferred"))
    return Queued(message, Allowed(message.meta.get("tag") if isinstance(message.meta.get("tag"), str) else None))


async def send_context(uow: TeamUnitOfWork, settings: OutboundSettings, timezones: PhoneTimezones,
                       account: CommunicationAccount, team: Team, thread: Thread, now: dt.datetime,
                       template: Template | None = None, variables: tuple[str, ...] = ()) -> SendContext:
    """What the policy engine needs to decide an agent's message on `thread` at `now`."""
    contact = await uow.contacts.get(thread.contact_id)
    zone = timezones.zone_of(contact.phone) if contact is not None and contact.phone else None
    return SendContext(
        now=now, provider=account.provider, purpose=Purpose.REPLY, account_id=account.id,
        consent=await uow.consent.latest(thread.contact_id, thread.channel), last_inbound_at=thread.last_inbound_at,
        quiet_hours=team.quiet_hours or settings.quiet_hours_default, team_tz=ZoneInfo(team.timezone),
        contact_tz=ZoneInfo(zone) if zone else None, human_agent=True, reply_grace=team.reply_grace,
        template=template, variables=variables)


async def still_allowed(uow: TeamUnitOfWork, settings: OutboundSettings, timezones: PhoneTimezones,
                        account: CommunicationAccount, team: Team, thread: Thread, message: Message,
                        now: dt.datetime) -> Blocked | None:
    """A message that waited (quiet hours, a rate cap, a retry) is decided again when it comes due: the contact may
    have opted out, the window may have closed, the template may no longer be approved. Only a refusal counts:
    once decided, a message does not wait for quiet hours a second time."""
    template, variables = None, ()
    if isinstance(used := message.meta.get("template"), dict):
        template = await uow.templates.get(str(used["id"]))
        if template is None:
            return Blocked(TEMPLATE_NOT_APPROVED)
        variables = tuple(str(v) for v in used.get("variables", []))
    decision = decide(await send_context(uow, settings, timezones, account, team, thread, now, template, variables))
    return decision if isinstance(decision, Blocked) else None


async def _blocked(uow: TeamUnitOfWork, actor: Actor, thread_id: str, decision: Blocked, now: dt.datetime) -> None:
    """A refused send writes its audit entry, and nothing else."""
    await uow.audit.append(AuditEvent(audit.user_actor(actor.user_id), audit.SEND_BLOCKED, f"thread:{thread_id}", now,
                                      {"reason": decision.reason}))
    await uow.commit()


async def schedule_send(jobs: JobQueue, team_id: str, account_id: str, at: dt.datetime | None,
                        now: dt.datetime) -> None:
    """Defers the account's send job: now (one waiting at most per account), or at `at` (one per account and
    second: the quiet-hours end, a rate cap's or a backoff's instant)."""
    args = {"team_id": team_id, "account_id": account_id}
    if at is None or at <= now:
        await jobs.defer(SEND_TASK, args, queueing_lock=f"{SEND_TASK}:{account_id}")
    else:
        await jobs.defer(SEND_TASK, args, at=at, queueing_lock=f"{SEND_TASK}:{account_id}:{int(at.timestamp())}")


def _key(value: str) -> str:
    if not value or len(value) > 200 or not value.isprintable():
        raise InvalidInput.single("idempotencyKey", "must be 1 to 200 printable characters")
    return value

