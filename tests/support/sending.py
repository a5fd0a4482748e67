"""Sending at a chosen time in tests: the agent's send and the account's send job on one fixed clock, the jobs
only recorded so nothing runs behind the test's back (the test runs the send job when it wants)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from commsinbox.adapters.clock import FixedClock
from commsinbox.domain.model.threads import Message
from commsinbox.domain.usecases.dispatch import SendDispatcher
from commsinbox.domain.usecases.outbound import OutboundService
from commsinbox.entrypoints.container import Services
from commsinbox.ports.clock import Clock
from commsinbox.ports.providers import ProviderRegistry


@attrs.define
class RecordedJobs:
    """A JobQueue that only records what was deferred."""

    deferred: list[tuple[str, dict[str, Any], dt.datetime | None, str | None]] = attrs.field(factory=list)

    async def defer(self, task: str, args: dict[str, Any], *, at: dt.datetime | None = None,
                    lock: str | None = None, queueing_lock: str | None = None) -> None:
        self.deferred.append((task, args, at, queueing_lock))


def outbound_at(services: Services, now: dt.datetime | Clock, providers: ProviderRegistry | None = None
                ) -> OutboundService:
    """`services.outbound` at `now` (a time, or a clock the test moves), with `providers` if given."""
    clock = now if not isinstance(now, dt.datetime) else FixedClock(now)
    return attrs.evolve(services.outbound, clock=clock, jobs=RecordedJobs(),
                        providers=providers or services.outbound.providers)


def dispatcher_of(services: Services, outbound: OutboundService) -> SendDispatcher:
    """The send job with the clock, providers and job queue of `outbound`."""
    return attrs.evolve(services.dispatcher, clock=outbound.clock, providers=outbound.providers, jobs=outbound.jobs)


async def dispatch(services: Services, outbound: OutboundService, message: Message) -> int:
    """Runs the send job of `message`'s account now; returns how many messages it handed to the provider."""
    return await dispatcher_of(services, outbound).run(message.team_id, message.account_id)
