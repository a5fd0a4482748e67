"""Jobs in process memory: each deferred job is an asyncio task that waits for its time, its lock and its retries.

The same rules as the procrastinate queue (tests/contracts/test_jobs.py holds both to them): `at` per the injected
clock, same-lock jobs one at a time in the order they were deferred, one waiting job per queueing lock, retries
per the RetryPolicy, a failure logged and kept on the job. Jobs run as soon as they are due, whether or not
`work()` runs; `work()` adds the periodic ticks. Nothing survives the process.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import json
import logging
import random
from collections.abc import Callable
from typing import Any

import attrs
from croniter import croniter

from ...ports.clock import Clock
from ...ports.jobs import DEFAULT_RETRY, JobHandler, RetryPolicy
from ..clock import SystemClock
from ..jobs.failures import log_failure

log = logging.getLogger("commsinbox.jobs")
NO_RETRY = RetryPolicy(max_attempts=1)
_RECHECK_SECONDS = 1.0  # a waiting job also re-reads the clock this often (a FixedClock moves without telling)


@attrs.define(eq=False)
class MemoryJob:
    id: int
    task: str
    args: dict[str, Any]
    due: dt.datetime
    lock: str | None
    queueing_lock: str | None
    status: str = "waiting"  # waiting | running | succeeded | failed
    failed_runs: int = 0
    error: str | None = None  # the last failure, as repr()


class MemoryJobQueue:
    def __init__(self, *, clock: Clock | None = None, retry: RetryPolicy = DEFAULT_RETRY,
                 rand: Callable[[], float] = random.random) -> None:
        self.clock = clock or SystemClock()
        self.retry = retry
        self.jobs: list[MemoryJob] = []  # every job deferred, in order: tests assert on it
        self._rand = rand
        self._ids = itertools.count(1)
        self._handlers: dict[str, tuple[JobHandler, RetryPolicy]] = {}
        self._periodic: list[tuple[str, str]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()

    # JobQueue

    async def defer(self, task: str, args: dict[str, Any], *, at: dt.datetime | None = None,
                    lock: str | None = None, queueing_lock: str | None = None) -> None:
        if queueing_lock is not None and any(j.status == "waiting" and j.queueing_lock == queueing_lock
                                             for j in self.jobs):
            log.debug("job not deferred: one is waiting with the same queueing lock",
                      extra={"task": task, "queueing_lock": queueing_lock})
            return
        now = self.clock.now()
        job = MemoryJob(next(self._ids), task, json.loads(json.dumps(args)), max(at, now) if at else now, lock,
                        queueing_lock)  # through JSON, as in the database: no shared mutable arguments
        self.jobs.append(job)
        running = asyncio.get_running_loop().create_task(self._live(job), name=f"job {task}[{job.id}]")
        self._tasks.add(running)
        running.add_done_callback(self._tasks.discard)
        self._notify()

    # JobWorker

    def register(self, task: str, handler: JobHandler, *, retry: RetryPolicy | None = None) -> None:
        self._handlers[task] = (handler, retry or self.retry)

    def register_periodic(self, task: str, cron: str, handler: JobHandler) -> None:
        if not croniter.is_valid(cron):
            raise ValueError(f"not a cron expression: {cron!r}")
        self.register(task, handler, retry=NO_RETRY)
        self._periodic.append((task, cron))

    async def work(self, *, concurrency: int = 1) -> None:
        """Defers each periodic task at its ticks until cancelled (jobs themselves run without it)."""
        if not self._periodic:
            await asyncio.Event().wait()
        schedules = {task: croniter(cron, self.clock.now()) for task, cron in self._periodic}
        upcoming = {task: schedule.get_next(dt.datetime) for task, schedule in schedules.items()}
        while True:
            task, tick = min(upcoming.items(), key=lambda item: item[1])
            await asyncio.sleep(max((tick - self.clock.now()).total_seconds(), 0.0))
            lock = f"periodic:{task}"
            await self.defer(task, {"timestamp": int(tick.timestamp())}, lock=lock, queueing_lock=lock)
            upcoming[task] = schedules[task].get_next(dt.datetime)

    # tests

    async def drain(self) -> None:
        """Waits until no job is running or due now (per the clock); jobs due later keep waiting."""
        while True:
            self._notify()  # waiting jobs re-read the clock (it may have been moved)
            await asyncio.sleep(0)
            if not any(j.status == "running" or self._runnable(j) for j in self.jobs):
                return
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), _RECHECK_SECONDS)

    async def aclose(self) -> None:
        """Cancels the jobs still waiting or running."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # the life of one job

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _runnable(self, job: MemoryJob) -> bool:
        if job.status != "waiting" or job.due > self.clock.now():
            return False
        return job.lock is None or not any(
            other.lock == job.lock and (other.status == "running" or (other.status == "waiting" and other.id < job.id))
            for other in self.jobs if other is not job)

    async def _live(self, job: MemoryJob) -> None:
        while True:
            while not self._runnable(job):
                changed = self._changed
                wait = min(max((job.due - self.clock.now()).total_seconds(), 0.0), _RECHECK_SECONDS)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), wait or _RECHECK_SECONDS)
            job.status = "running"
            self._notify()
            try:
                await self._run(job)
            except Exception as exc:
                job.failed_runs += 1
                job.error = repr(exc)
                retry = self._handlers[job.task][1] if job.task in self._handlers else NO_RETRY
                delay = retry.delay(job.failed_runs, self._rand())
                log_failure(job.task, job.id, job.failed_runs, delay, exc)
                if delay is None:
                    job.status = "failed"
                    self._notify()
                    return
                job.due = self.clock.now() + dt.timedelta(seconds=delay)
                job.status = "waiting"
                self._notify()
            else:
                job.status = "succeeded"
                self._notify()
                return

    async def _run(self, job: MemoryJob) -> None:
        if job.task not in self._handlers:
            raise LookupError(f"no handler registered for the task {job.task!r}")
        await self._handlers[job.task][0](dict(job.args))

