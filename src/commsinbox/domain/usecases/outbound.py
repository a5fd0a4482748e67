"""Outbound messages: an agent's send is decided by the policy engine and queued (once per idempotency key), and
the account's send job is deferred (`usecases.dispatch` hands it to the provider and records the outcome). A send
that may have reached the provider but was not recorded ends `unknown`, never re-sent by itself."""
from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import attrs

from ...ports.clock import Clock, IdGenerator
from ...ports.jobs import JobQueue
from ...ports.providers import Outgoing, ProviderRegistry
from ...ports.unit_of_work import UnitOfWorkFactory
from ..model import events
from ..model.channels import DeliveryStatus, Direction, MessageType
from ..model.consent import Purpose
from ..model.errors import InvalidInput, NotFound, PolicyBlocked
from ..model.ids import MessageId
from ..model.paging import Page, PageRequest
from ..model.threads import Dispatch, Message, Thread
from ..model.values import Permission, QuietHours
from ..policies.decision import Allowed, Blocked, Decision, Deferred
from ..policies.outbound import SendContext, decide
from .access import Actor
from .connections import ConnectionService
from .inbox import visible_thread

log = logging.getLogger("commsinbox.outbound")

HOLD = dt.timedelta(minutes=2)  # a send job's hold on a message; past it, the send's outcome is unknown
MAX_ATTEMPTS = 6  # provider calls for one message, transient failures included
SEND_TASK = "outbound.send"  # the send job (usecases.dispatch.SendDispatcher.run), per team and account


@attrs.frozen
class SendRequest:
    thread_id: str
    idempotency_key: str
    text: str


@attrs.frozen
class Queued:
    message: Message
    decision: Decision


@attrs.frozen
class OutboundSettings:
    quiet_hours_default: QuietHours
    status_callback_url: str | None = None  # Twilio posts the message's statuses here
    reply_grace: dt.timedelta | None = dt.timedelta(minutes=30)


@attrs.define
class OutboundService:
    uows: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    providers: ProviderRegistry
    connections: ConnectionService
    settings: OutboundSettings
    jobs: JobQueue

    async def send(self, actor: Actor, request: SendRequest) -> Queued:
        """Decides and queues; a blocked send raises PolicyBlocked and writes nothing. The same idempotency key
        returns the message first queued under it."""
        actor.require(Permission.INBOX_WRITE)
        key, text = _key(request.idempotency_key), _text(request.text)
        now = self.clock.now()
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            thread = (await visible_thread(uow, actor, request.thread_id, now)).thread
            account, team = await uow.accounts.get(thread.account_id), await uow.teams.get(actor.team_id)
            if account is None or team is None:
                raise NotFound("thread", request.thread_id)
            consent = await uow.consent.latest(thread.contact_id, thread.channel)
            decision = decide(SendContext(
                now=now, provider=account.provider, purpose=Purpose.REPLY, account_id=account.id, consent=consent,
                last_inbound_at=thread.last_inbound_at, quiet_hours=team.quiet_hours or self.settings.quiet_hours_default,
                team_tz=ZoneInfo(team.timezone), human_agent=True, reply_grace=self.settings.reply_grace))
            if isinstance(decision, Blocked):
                raise PolicyBlocked(decision.reason)
            send_after = decision.until if isinstance(decision, Deferred) else now
            tag = decision.tag if isinstance(decision, Allowed) else None
            message = Message(MessageId(self.ids.new_id()), actor.team_id, thread.id, thread.account_id, None,
                              Direction.OUT, MessageType.TEXT, now, DeliveryStatus.QUEUED, now, content=text,
                              meta={"sentBy": actor.user_id, **({"tag": tag} if tag else {})},
                              idempotency_key=key, dispatch=Dispatch.WAITING, send_after=send_after)
            stored = await uow.messages.add_outbound(message)
            if stored.id != message.id:  # the key was used before: that message, as it was decided then
                if stored.send_after is not None and stored.send_after > stored.created_at:
                    return Queued(stored, Deferred(stored.send_after, "deferred"))
                return Queued(stored, Allowed())
            await uow.outbox.add(events.MESSAGE_QUEUED, {"messageId": message.id, "threadId": thread.id}, now)
            await uow.commit()
        # After the commit (the job runs on another connection); a defer lost in a crash is the sweep's to redo.
        await schedule_send(self.jobs, actor.team_id, thread.account_id, send_after, now)
        return Queued(stored, decision)

    async def list(self, actor: Actor, thread_id: str, page: PageRequest) -> Page[Message]:
        actor.require(Permission.INBOX_READ)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            await visible_thread(uow, actor, thread_id, self.clock.now())
            return await uow.messages.page(thread_id, page)

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


def outgoing(message: Message, thread: Thread, settings: OutboundSettings) -> Outgoing:
    """What the provider is asked to send for `message` (the send job builds it at dispatch)."""
    return Outgoing(to=thread.external_contact_id, idempotency_key=message.idempotency_key or message.id,
                    text=message.content, human_agent_tag=message.meta.get("tag") == "HUMAN_AGENT",
                    status_callback_url=settings.status_callback_url)


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


def _text(value: str) -> str:
    if not value or not value.strip():
        raise InvalidInput.single("text", "must not be empty")
    if len(value) > 4096:
        raise InvalidInput.single("text", "must be at most 4096 characters")
    return value
