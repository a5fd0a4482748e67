"""The send job on both adapters: one provider call per message, rate caps defer (never fail), transient failures
back off under the same key, permanent ones fail with the provider's code, ambiguous ones and lost holds end
`unknown`, and every wait becomes a scheduled job."""
from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest

from commsinbox.adapters.clock import FixedClock
from commsinbox.adapters.memory.providers import MemoryProviderRegistry
from commsinbox.domain.model.channels import DeliveryStatus, Provider
from commsinbox.domain.model.threads import Dispatch, Message
from commsinbox.domain.policies.rate_caps import JITTER_HEADROOM
from commsinbox.domain.usecases.dispatch import SendDispatcher
from commsinbox.domain.usecases.outbound import HOLD, MAX_ATTEMPTS, SEND_TASK, OutboundService, SendRequest
from commsinbox.entrypoints.container import Services, memory_services, postgres_services
from commsinbox.ports.providers import ProviderError
from tests.conftest import FAST_HASHER, Member, make_team, settings_for
from tests.contracts.test_inbox import threads_of
from tests.contracts.test_ingest import T0, connect, text
from tests.support.sending import RecordedJobs

pytestmark = pytest.mark.integration
NOW = T0 + dt.timedelta(minutes=30)  # inside the customer's 24-hour window, outside quiet hours (UTC team)


class FixedBackoff:
    def delay(self, attempt: int) -> dt.timedelta:
        return dt.timedelta(seconds=10 * attempt)


@attrs.define
class World:
    services: Services
    providers: MemoryProviderRegistry
    clock: FixedClock
    jobs: RecordedJobs
    outbound: OutboundService
    dispatcher: SendDispatcher
    owner: Member | None = None
    account_id: str = ""
    external_id: str = ""

    @property
    def gateway(self):  # type: ignore[no-untyped-def]
        return self.providers.gateway(Provider.WHATSAPP_META)

    async def thread(self, wa_id: str = "5511987654321") -> str:
        if self.owner is None:
            self.owner = await make_team(self.services)
            external_id = await connect(self.services, self.owner)
            async with self.services.uows.for_team(self.owner.team_id) as uow:
                self.account_id = next(a.id for a in await uow.accounts.list() if a.external_id == external_id)
            self.external_id = external_id
        await self.services.ingest.ingest([text(self.external_id, wa_id=wa_id, phone=f"+{wa_id}", minutes=0)])
        views = await threads_of(self.services, self.owner)
        return str(next(v.thread.id for v in views if v.thread.external_contact_id == wa_id))

    async def send(self, thread: str, key: str) -> Message:
        assert self.owner is not None
        queued = await self.outbound.send(self.owner.actor, SendRequest(thread, key, f"text of {key}"))
        self.clock.advance(dt.timedelta(milliseconds=1))  # a queue order that does not hang on random ids
        return queued.message

    async def run(self) -> int:
        assert self.owner is not None
        return await self.dispatcher.run(self.owner.team_id, self.account_id)

    async def message(self, id: str) -> Message:
        assert self.owner is not None
        async with self.services.uows.for_team(self.owner.team_id) as uow:
            found = await uow.messages.get(id)
        assert found is not None
        return found

    async def set_rate(self, per_second: float, burst: int) -> None:
        assert self.owner is not None
        async with self.services.uows.for_team(self.owner.team_id) as uow:
            account = await uow.accounts.get(self.account_id)
            assert account is not None
            account.rate_config = {"perSecond": per_second, "burst": burst}
            await uow.accounts.update(account)
            await uow.commit()


def world_of(services: Services, providers: MemoryProviderRegistry) -> World:
    clock, jobs = FixedClock(NOW), RecordedJobs()
    return World(services, providers, clock, jobs, attrs.evolve(services.outbound, clock=clock, jobs=jobs),
                 attrs.evolve(services.dispatcher, clock=clock, jobs=jobs, backoff=FixedBackoff()))


@pytest.fixture(params=["memory", "postgres"])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    providers = MemoryProviderRegistry()
    if request.param == "memory":
        yield world_of(memory_services(hasher=FAST_HASHER, providers=providers), providers)
        return
    owner = request.getfixturevalue("pg_owner_url")
    async with postgres_services(settings_for(tmp_path, owner), owner=owner, migrate_first=False,
                                 hasher=FAST_HASHER, providers=providers) as services:
        yield world_of(services, providers)


async def test_a_send_defers_its_account_job_and_the_job_sends_it_once(world: World) -> None:
    message = await world.send(await world.thread(), "k-1")
    assert world.jobs.deferred == [(SEND_TASK, {"team_id": message.team_id, "account_id": message.account_id}, None,
                                    f"{SEND_TASK}:{message.account_id}")]
    assert await world.run() == 1
    assert await world.run() == 0  # done: a second job finds nothing to send
    [sent] = world.gateway.sent
    assert sent.message.idempotency_key == "k-1" and sent.message.text == "text of k-1"
    stored = await world.message(message.id)
    assert (stored.dispatch, stored.provider_message_id, stored.send_attempts) == (
        Dispatch.DONE, sent.provider_message_id, 1)


async def test_a_transient_failure_backs_off_under_the_same_key_then_fails_after_the_last_attempt(
        world: World) -> None:
    message = await world.send(await world.thread(), "k-2")
    world.gateway.fail_next_sends(*[ProviderError("throttled", transient=True, code="130429",
                                                  reason="rate_limited")] * MAX_ATTEMPTS)
    for attempt in range(1, MAX_ATTEMPTS):
        assert await world.run() == 1
        stored = await world.message(message.id)
        assert (stored.dispatch, stored.status, stored.error_code) == (Dispatch.WAITING, DeliveryStatus.QUEUED,
                                                                       "130429")
        assert stored.send_after == world.clock.now() + dt.timedelta(seconds=10 * attempt)
        assert world.jobs.deferred[-1][2] == stored.send_after  # the retry is a job scheduled for then
        assert await world.run() == 0  # not due yet
        world.clock.advance(dt.timedelta(seconds=10 * attempt))
    assert await world.run() == 1
    stored = await world.message(message.id)
    assert (stored.dispatch, stored.status, stored.send_attempts) == (Dispatch.DONE, DeliveryStatus.FAILED,
                                                                      MAX_ATTEMPTS)
    assert world.gateway.attempts == MAX_ATTEMPTS and not world.gateway.sent


async def test_a_permanent_failure_fails_the_message_with_the_providers_code_and_reason(world: World) -> None:
    message = await world.send(await world.thread(), "k-3")
    world.gateway.fail_next_sends(ProviderError("Recipient phone number not in allowed list", transient=False,
                                                code="131030", reason="invalid_recipient"))
    await world.run()
    stored = await world.message(message.id)
    assert (stored.status, stored.dispatch, stored.error_code) == (DeliveryStatus.FAILED, Dispatch.DONE, "131030")
    assert "not in allowed list" in (stored.error_message or "")
    assert await world.run() == 0 and world.gateway.attempts == 1


async def test_an_opt_out_refusal_of_several_messages_records_one_opt_out(world: World) -> None:
    thread = await world.thread()
    first, second = await world.send(thread, "k-3a"), await world.send(thread, "k-3b")
    world.gateway.fail_next_sends(*[ProviderError("the recipient unsubscribed", transient=False, code="21610",
                                                  reason="opted_out") for _ in range(2)])
    await world.run()  # the clock stands still: the account cap lets one go now, the other a moment later
    world.clock.advance(dt.timedelta(seconds=1))
    await world.run()
    assert [(await world.message(m.id)).status for m in (first, second)] == [DeliveryStatus.FAILED] * 2
    assert world.owner is not None
    async with world.services.uows.for_team(world.owner.team_id) as uow:
        changes = [e for e in await uow.outbox.since(None, 100) if e.kind == "consent.changed"]
    assert [c.payload["status"] for c in changes] == ["opted_out"]  # one ledger record for the contact


async def test_an_ambiguous_failure_ends_unknown_and_is_never_sent_again(world: World) -> None:
    message = await world.send(await world.thread(), "k-4")
    world.gateway.fail_next_sends(ProviderError("read timeout", transient=True, ambiguous=True))
    await world.run()
    world.clock.advance(dt.timedelta(hours=1))
    assert await world.run() == 0 and await world.dispatcher.sweep() >= 0
    assert (await world.message(message.id)).status is DeliveryStatus.UNKNOWN
    assert world.gateway.attempts == 1


async def test_a_hold_that_ran_out_means_unknown_and_the_sweep_never_resends_it(world: World) -> None:
    message = await world.send(await world.thread(), "k-5")
    assert world.owner is not None
    async with world.services.uows.for_team(world.owner.team_id) as uow:  # a worker claimed it, then died
        assert [m.id for m in await uow.messages.claim_due(world.account_id, NOW, HOLD, 10)] == [message.id]
        await uow.commit()
    world.clock.advance(HOLD + dt.timedelta(seconds=1))
    await world.dispatcher.sweep()
    stored = await world.message(message.id)
    assert (stored.status, stored.dispatch) == (DeliveryStatus.UNKNOWN, Dispatch.DONE)
    assert "check with the customer" in (stored.error_message or "")
    assert await world.run() == 0 and world.gateway.attempts == 0


async def test_the_sweep_defers_a_job_for_due_messages_whose_job_was_lost(world: World) -> None:
    message = await world.send(await world.thread(), "k-6")
    world.jobs.deferred.clear()  # as if the defer after the commit never happened
    await world.dispatcher.sweep()
    assert (SEND_TASK, {"team_id": message.team_id, "account_id": message.account_id}, None,
            f"{SEND_TASK}:{message.account_id}") in world.jobs.deferred


async def test_over_the_account_cap_a_send_is_deferred_not_failed(world: World) -> None:
    threads = [await world.thread(f"55119000000{n:02d}") for n in range(1, 5)]
    await world.set_rate(2, burst=1)
    messages = [await world.send(thread, f"k-7-{n}") for n, thread in enumerate(threads, 1)]
    ran_at = world.clock.now()
    assert await world.run() == 1  # the clock stands still: one token, then the job schedules the rest
    stored = [await world.message(m.id) for m in messages]
    assert [m.dispatch for m in stored] == [Dispatch.DONE] + [Dispatch.WAITING] * 3
    interval = dt.timedelta(seconds=(1 + JITTER_HEADROOM) / 2)  # the cap of 2/s with its jitter headroom
    assert {m.send_after for m in stored[1:]} == {ran_at + interval}
    assert all(m.status is DeliveryStatus.QUEUED and m.error_code is None for m in stored)
    assert len(world.gateway.sent) == 1
    for _ in range(3):
        world.clock.advance(interval)
        assert await world.run() == 1
    assert [s.message.idempotency_key for s in world.gateway.sent] == [f"k-7-{n}" for n in range(1, 5)]


async def test_the_pair_cap_defers_only_that_recipients_messages(world: World) -> None:
    busy, other = await world.thread("5511911111111"), await world.thread("5511922222222")
    await world.set_rate(1000, burst=100)  # the account's cap out of the way
    to_busy = [await world.send(busy, f"k-8-{n}") for n in range(11)]  # Meta's pair cap: a burst of 10, 1 per 6 s
    to_other = await world.send(other, "k-8-other")
    ran_at = world.clock.now()
    assert await world.run() == 11
    waiting = await world.message(to_busy[-1].id)
    assert waiting.dispatch is Dispatch.WAITING and waiting.send_after == ran_at + dt.timedelta(seconds=6)
    assert (await world.message(to_other.id)).dispatch is Dispatch.DONE
    assert world.jobs.deferred[-1][2] == ran_at + dt.timedelta(seconds=6)
    sent_to_busy = [s.message.text for s in world.gateway.sent if s.message.to == "5511911111111"]
    assert sent_to_busy == [f"text of k-8-{n}" for n in range(10)]  # one recipient's messages in order
