"""The send job: an account's due messages go to its provider under the rate caps, each at most once.

One job per account at a time is waiting (its queueing lock); a running job loops: claim a batch of due messages
(waiting → sending, a 2-minute HOLD), take a rate-cap token for each in order (one refused goes back to waiting at
the instant the caps allow it, without a provider call), hand the others to the provider concurrently (one
recipient's messages one after the other, in order), and record every outcome in one transaction. A transient
failure waits for the backoff under the same idempotency key; a permanent one fails the message with the
provider's code and reason; an ambiguous one, or a hold that ran out (a crash between the provider's answer and
the record), ends `unknown` and is never sent again by itself.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import time

import attrs

from ...ports.clock import Clock, PhoneTimezones
from ...ports.jobs import Backoff, JobQueue
from ...ports.providers import ProviderError, ProviderRegistry
from ...ports.rates import RateLimiter
from ...ports.storage import BlobStorage
from ...ports.unit_of_work import TeamUnitOfWork, UnitOfWorkFactory
from ..model import audit, events
from ..model.accounts import CommunicationAccount
from ..model.channels import DeliveryStatus
from ..model.audit import AuditEvent
from ..model.consent import ConsentRecord, ConsentStatus
from ..model.errors import InvalidInput
from ..model.ids import TeamId
from ..model.threads import Dispatch, Message, Thread
from ..policies.decision import Blocked
from ..policies.rate_caps import send_caps
from .connections import ConnectionService
from .consent import record_consent
from .outbound import HOLD, MAX_ATTEMPTS, OutboundSettings, schedule_send, still_allowed
from .outbound_content import outgoing_of
from .send_sweep import status_event, sweep_sends

log = logging.getLogger("commsinbox.outbound")

BATCH = 200  # messages claimed at once
SEND_CONCURRENCY = 100  # provider calls in flight per job
WAIT_IN_JOB = dt.timedelta(seconds=2)  # a message due sooner than this is waited for in the job, not re-deferred
LATE_WAKE = dt.timedelta(milliseconds=10)  # a wake-up this late still takes its token for the instant waited for
LATE_DEPARTURE = dt.timedelta(milliseconds=25)  # a granted send not started by then takes fresh tokens instead
MAX_RUN_SECONDS = 60.0  # then the job defers its successor and ends, leaving the worker to other jobs
RECHECK_AFTER = dt.timedelta(seconds=30)  # a message queued longer ago is decided again before it goes


@attrs.define
class _Send:
    message: Message
    thread: Thread
    retry_at: dt.datetime | None = None  # refused by a rate cap: back to waiting until then
    error: ProviderError | None = None
    granted_at: dt.datetime | None = None  # the instant its rate-cap tokens were taken for


@attrs.define
class SendDispatcher:
    uows: UnitOfWorkFactory
    clock: Clock
    providers: ProviderRegistry
    connections: ConnectionService
    settings: OutboundSettings
    jobs: JobQueue
    limiter: RateLimiter
    backoff: Backoff
    storage: BlobStorage
    timezones: PhoneTimezones

    async def run(self, team_id: str, account_id: str) -> int:
        """The job `outbound.send`: sends the account's due messages until none is due soon. Returns how many
        messages it handed to the provider. A batch's outcomes are recorded while the next batch is claimed and
        paced, so a capped account keeps its pace across batches."""
        finishing: list[asyncio.Task[None]] = []
        try:
            return await self._run(TeamId(team_id), account_id, finishing)
        finally:
            await asyncio.gather(*finishing)

    async def _run(self, team_id: TeamId, account_id: str, finishing: list[asyncio.Task[None]]) -> int:
        started, handed, waited, capped = time.monotonic(), 0, False, False
        while time.monotonic() - started < MAX_RUN_SECONDS:
            now = self.clock.now()
            account, batch = await self._claim(team_id, account_id, now)
            if account is None:
                return handed
            if not batch and finishing:  # the last batch's waits become visible once recorded
                await asyncio.gather(*finishing)
                finishing.clear()
                continue
            if not batch:
                next_due = await self._next_due(team_id, account_id)
                if next_due is None:
                    return handed
                if waited or next_due - self.clock.now() > WAIT_IN_JOB:  # (waited: a clock that does not move)
                    await schedule_send(self.jobs, team_id, account_id, next_due, self.clock.now())
                    return handed
                await asyncio.sleep(max((next_due - self.clock.now()).total_seconds(), 0.001))
                waited = True
                continue
            waited = False
            if len(batch) == BATCH and not capped:  # more are due and no cap holds them: a sibling job overlaps
                await schedule_send(self.jobs, team_id, account_id, None, now)  # its claim with these sends
            sent, capped, finish = await self._send_batch(account, batch)
            for task in finishing:
                if task.done() and task.exception() is not None:  # recording a batch failed: the job fails
                    raise task.exception()  # type: ignore[misc]
            finishing[:] = [task for task in finishing if not task.done()] + [finish]
            handed += sent
        await schedule_send(self.jobs, team_id, account_id, None, self.clock.now())
        return handed

    async def _claim(self, team_id: TeamId, account_id: str,
                     now: dt.datetime) -> tuple[CommunicationAccount | None, list[_Send]]:
        async with self.uows.for_team(team_id) as uow:
            account = await uow.accounts.get(account_id)
            if account is None:
                return None, []
            claimed = await uow.messages.claim_due(account_id, now, HOLD, _batch_size(account))
            threads = await uow.threads.get_many(sorted({m.thread_id for m in claimed}))
            sends, orphans, refused = [], [], []
            team = await uow.teams.get(team_id) if any(now - m.created_at > RECHECK_AFTER for m in claimed) else None
            for message in claimed:
                thread = threads.get(message.thread_id)
                if thread is None:  # deleted with its thread: nothing to send
                    message.dispatch, message.send_after, message.status = Dispatch.DONE, None, DeliveryStatus.FAILED
                    orphans.append(message)
                    continue
                if now - message.created_at > RECHECK_AFTER:
                    blocked = (await still_allowed(uow, self.settings, self.timezones, account, team, thread, message,
                                                   now) if team is not None else Blocked("team_removed"))
                    if blocked:
                        message.dispatch, message.send_after, message.status = (Dispatch.DONE, None,
                                                                                DeliveryStatus.FAILED)
                        message.error_code, message.error_message = blocked.reason, (
                            f"not sent: {blocked.reason} when it came due")
                        refused.append(message)
                        await uow.audit.append(AuditEvent(audit.SYSTEM, audit.SEND_BLOCKED, f"thread:{thread.id}", now,
                                                          {"reason": blocked.reason, "messageId": message.id}))
                        continue
                sends.append(_Send(message, thread))
            await uow.messages.save_dispatches(orphans + refused)
            if refused:
                await uow.outbox.add_many([(events.MESSAGE_STATUS_CHANGED, status_event(m), now) for m in refused])
            await uow.commit()
        return account, sends

    async def _next_due(self, team_id: TeamId, account_id: str) -> dt.datetime | None:
        async with self.uows.for_team(team_id) as uow:
            return await uow.messages.next_send(account_id)

    async def _send_batch(self, account: CommunicationAccount,
                          batch: list[_Send]) -> tuple[int, bool, asyncio.Task[None]]:
        """Tokens for the whole batch at once, in order; a send whose cap frees up within WAIT_IN_JOB waits for it
        here, later ones go back to waiting. Each granted send starts at once (after the same recipient's earlier
        one), so the provider sees the pace the caps set. Returns how many went, whether a cap held one back, and
        the task that records the outcomes once the sends are done."""
        slots, started = asyncio.Semaphore(SEND_CONCURRENCY), []
        previous: dict[str, asyncio.Task[None]] = {}
        earlier: dict[str, _Send] = {}
        pending, waited_for, round_size, capped = batch, None, len(batch), False
        while pending:
            # After a wait, the tokens are taken for the instant waited for, if the wake-up was at most LATE_WAKE
            # late: small scheduling delays do not slow the pace, and take at most LATE_WAKE of the jitter headroom
            # (docs/policies.md#rate-caps); a longer stall is not caught up with a burst.
            now = self.clock.now()
            if waited_for is not None and now - waited_for <= LATE_WAKE:
                now = min(now, waited_for)
            asked, later = pending[:round_size], pending[round_size:]  # the rest would meet the same account cap
            results = await self.limiter.acquire_many([
                send_caps(account.provider, account.id, s.thread.external_contact_id, account.rate_config)
                for s in asked], now)
            waiting: list[_Send] = []
            capped = capped or any(r is not None for r in results)
            for send, refused in zip(asked, results, strict=True):
                if refused is None:
                    send.granted_at = now if capped else None  # paced by a cap: its departure must not lag
                    task = asyncio.create_task(self._send_one(account, send, slots, previous.get(send.thread.id),
                                                              earlier.get(send.thread.id)))
                    previous[send.thread.id], earlier[send.thread.id] = task, send
                    started.append(send)
                elif refused.retry_at - now <= WAIT_IN_JOB:
                    send.retry_at = refused.retry_at
                    waiting.append(send)
                else:
                    send.retry_at = refused.retry_at
            round_size = 2 * sum(r is None for r in results) + 1
            if later and not waiting:
                pending = later
                continue
            waiting += later
            if waiting:
                waited_for = min(s.retry_at for s in waiting if s.retry_at is not None)
                await asyncio.sleep(max((waited_for - self.clock.now()).total_seconds(), 0.0))
                stands_still = self.clock.now() < waited_for  # (tests): the rest go back to waiting
                for send in waiting:
                    send.retry_at = (send.retry_at or waited_for) if stands_still else None
                if stands_still:
                    waiting = []
            pending = waiting
        refused = [s for s in batch if s.retry_at is not None and not any(s is t for t in started)]
        return len(started), capped, asyncio.create_task(self._finish(account.team_id, started, refused,
                                                                      list(previous.values())))

    async def _finish(self, team_id: TeamId, started: list[_Send], refused: list[_Send],
                      sending: list[asyncio.Task[None]]) -> None:
        await asyncio.gather(*sending)
        await self._record(team_id, started + refused)

    async def _send_one(self, account: CommunicationAccount, send: _Send, slots: asyncio.Semaphore,
                        after: asyncio.Task[None] | None, earlier: _Send | None) -> None:
        """`after` sends `earlier`, the same customer's previous message of the batch: this one waits for it, and
        goes back to waiting with it if it went back (their order is kept)."""
        if after is not None:
            await asyncio.wait([after])
        if earlier is not None and earlier.retry_at is not None:
            send.retry_at = max(self.clock.now(), earlier.retry_at)
            return
        try:
            gateway, access = self.providers.gateway(account.provider), self.connections.access(account)
        except Exception as error:  # nothing was sent: the account cannot send as it is
            log.exception("the account's credentials cannot be used", extra={"messageId": send.message.id})
            send.error = ProviderError(f"the account cannot send: {type(error).__name__}", transient=False,
                                       reason="not_configured")
            return
        async with slots:
            if send.granted_at is not None and self.clock.now() - send.granted_at > LATE_DEPARTURE:
                # Held up since its tokens were taken (a stall, or the recipient's previous message): sent now, it
                # could reach the provider bunched with later ones. Back to waiting, to take fresh tokens.
                send.retry_at = self.clock.now()
                return
            try:
                request = await outgoing_of(send.message, send.thread, self.storage, self.settings.status_callback_url)
                sent = await gateway.send(access, request)
            except ProviderError as error:
                send.error = error
            except InvalidInput as error:  # refused before any request: the message cannot be sent as it is
                send.error = ProviderError(str(error), transient=False, reason="invalid_request")
            except Exception as error:  # a bug or an unexpected failure: it may have gone out, never resend
                log.exception("send raised", extra={"messageId": send.message.id})
                send.error = ProviderError(f"unexpected {type(error).__name__}", transient=False, ambiguous=True)
            else:
                send.message.provider_message_id = sent.provider_message_id
                send.message.dispatch, send.message.send_after = Dispatch.DONE, None

    async def _record(self, team_id: TeamId, sends: list[_Send]) -> None:
        now = self.clock.now()
        retries: set[dt.datetime] = set()
        for send in sends:
            message = send.message
            if send.retry_at is not None:  # a rate cap's wait: no provider call was made
                message.dispatch, message.send_after = Dispatch.WAITING, send.retry_at
                retries.add(send.retry_at)
                continue
            message.send_attempts += 1
            if send.error is not None and (retry_at := self._failed(message, send.error, now)) is not None:
                retries.add(retry_at)
        async with self.uows.for_team(team_id) as uow:
            await uow.messages.save_dispatches([s.message for s in sends])
            for send in sends:
                if (send.error is not None and send.error.reason == "opted_out"
                        and not await _already_opted_out(uow, send.thread)):
                    await record_consent(uow, ConsentRecord(send.thread.contact_id, send.thread.channel,
                                                            ConsentStatus.OPTED_OUT,
                                                            f"provider error {send.error.code}", now),
                                         audit.PROVIDER, audit.CONSENT_PROVIDER, messageId=send.message.id,
                                         threadId=send.thread.id)
            changed = [(events.MESSAGE_STATUS_CHANGED, status_event(s.message), now) for s in sends
                       if s.retry_at is None]
            if changed:
                await uow.outbox.add_many(changed)
            await uow.commit()
        for retry_at in sorted(retries):
            if retry_at - now > WAIT_IN_JOB:  # sooner ones: this job's own loop waits for them
                await schedule_send(self.jobs, team_id, sends[0].message.account_id, retry_at, now)

    def _failed(self, message: Message, error: ProviderError, now: dt.datetime) -> dt.datetime | None:
        retry_at = None
        message.error_code, message.error_message = error.code, str(error)
        if error.ambiguous:
            message.status, message.dispatch, message.send_after = DeliveryStatus.UNKNOWN, Dispatch.DONE, None
        elif error.transient and message.send_attempts < MAX_ATTEMPTS:
            retry_at = now + self.backoff.delay(message.send_attempts)
            message.dispatch, message.send_after = Dispatch.WAITING, retry_at
        else:
            message.status, message.dispatch, message.send_after = DeliveryStatus.FAILED, Dispatch.DONE, None
        log.warning("send failed", extra={"messageId": message.id, "code": error.code, "reason": error.reason,
                                          "retryAt": retry_at.isoformat() if retry_at else None})
        return retry_at

    async def sweep(self) -> int:
        """The periodic task `outbound.sweep` (usecases.send_sweep). Returns how many jobs it deferred."""
        return await sweep_sends(self.uows, self.clock, self.jobs)


async def _already_opted_out(uow: TeamUnitOfWork, thread: Thread) -> bool:
    """Whether the ledger already says so: the provider refusing several messages makes one record."""
    latest = await uow.consent.latest(thread.contact_id, thread.channel)
    return latest is not None and latest.status is ConsentStatus.OPTED_OUT


def _batch_size(account: CommunicationAccount) -> int:
    """No more than the account's cap lets go within WAIT_IN_JOB: a claimed message waits in `sending` only briefly
    (were the worker to die then, it would end `unknown`)."""
    cap = send_caps(account.provider, account.id, "", account.rate_config)[0][1]
    return max(1, min(BATCH, math.ceil(cap.per_second * WAIT_IN_JOB.total_seconds())))


__all__ = ["SendDispatcher"]
