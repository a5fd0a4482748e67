"""Background jobs: the queue use cases defer to, the worker entrypoints run, and the retry policy both share.

A job is a task name (registered with the worker) and a JSON object of arguments. Arguments carry ids only,
never customer data or secrets: the job table is outside row-level security and its rows end up in logs.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import attrs

JobHandler = Callable[[dict[str, Any]], Awaitable[None]]


class JobQueue(Protocol):
    async def defer(self, task: str, args: dict[str, Any], *, at: dt.datetime | None = None,
                    lock: str | None = None, queueing_lock: str | None = None) -> None:
        """Schedules `task` (a name registered with the worker) with JSON `args`, to run at `at` (now when None).
        `lock`: jobs with the same lock never run at the same time; they run in the order they were deferred, so a
        job waiting for its `at` or for a retry holds back the same-lock jobs deferred after it.
        `queueing_lock`: at most one waiting job per value (a second defer while one waits is a silent no-op, not an
        error); once the job has started, another may be deferred."""
        ...


class JobWorker(Protocol):
    """The side of the queue that runs jobs: the composition root registers the handlers, then runs it."""

    def register(self, task: str, handler: JobHandler, *, retry: RetryPolicy | None = None) -> None:
        """Runs `handler(args)` for each job of `task`; a failure is logged and retried per `retry` (or the
        queue's default policy)."""
        ...

    def register_periodic(self, task: str, cron: str, handler: JobHandler) -> None:
        """Runs `handler({"timestamp": <unix seconds of the tick>})` at each tick of the 5-field `cron` (UTC),
        once per tick however many workers run, and never two ticks of the same task at once. A failed tick is
        logged and not retried: the next tick is the retry."""
        ...

    async def work(self, *, concurrency: int = 1) -> None:
        """Runs due jobs (at most `concurrency` at once) and periodic tasks until cancelled; on cancellation it
        lets running jobs finish (within a grace period) before returning."""
        ...


class Backoff(Protocol):
    """How long a job waits before its next try of something that failed transiently (a provider's 429)."""

    def delay(self, attempt: int) -> dt.timedelta:
        """The wait after the `attempt`-th failed try (1 after the first)."""
        ...


@attrs.frozen
class RetryPolicy:
    """Exponential backoff: after the n-th failed run of a job, wait `first_delay * factor ** (n - 1)` seconds
    (at most `max_delay`, then ± `jitter` of it at random), until `max_attempts` runs in all have failed."""

    max_attempts: int = attrs.field(default=10, validator=attrs.validators.ge(1))
    first_delay: float = attrs.field(default=10.0, validator=attrs.validators.ge(0))
    factor: float = attrs.field(default=2.0, validator=attrs.validators.ge(1))
    max_delay: float = attrs.field(default=3600.0, validator=attrs.validators.ge(0))
    jitter: float = attrs.field(default=0.1, validator=[attrs.validators.ge(0), attrs.validators.le(1)])

    def delay(self, failed_runs: int, rand: float = 0.5) -> float | None:
        """Seconds to wait before the next run once `failed_runs` runs have failed (1 after the first), or None
        when no run is left. `rand` in [0, 1) picks the jitter (0.5: none)."""
        if failed_runs >= self.max_attempts:
            return None
        base = min(self.first_delay * self.factor ** max(failed_runs - 1, 0), self.max_delay)
        return max(base * (1 + self.jitter * (2 * rand - 1)), 0.0)


#: 10 runs in all: retries after about 10 s, 20 s, 40 s, … 43 min (1 h 25 min from the first run to the last).
DEFAULT_RETRY = RetryPolicy()
