"""The job queue on PostgreSQL: a procrastinate `App` with its async psycopg connector (ADR 0012).

Jobs are rows in `procrastinate_jobs` (created by `commsinbox migrate`). Workers take them with
`FOR UPDATE SKIP LOCKED`, wake on LISTEN/NOTIFY (and poll as a fallback), and record their heartbeat; any number
of processes on any number of machines may defer and work. The connector logs in as the application role (or
switches to it with SET ROLE), like the SQLAlchemy engine.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import random
import socket
from collections.abc import Callable
from typing import Any

import procrastinate
from procrastinate import exceptions as procrastinate_errors
from procrastinate import retry as procrastinate_retry
from procrastinate.jobs import Job, Status
from psycopg import AsyncConnection, sql

from ...ports.jobs import DEFAULT_RETRY, JobHandler, RetryPolicy
from .failures import log_failure

log = logging.getLogger("commsinbox.jobs")
NO_RETRY = RetryPolicy(max_attempts=1)
HEARTBEAT_SECONDS = 10.0
#: A worker silent this long is taken for dead: its running jobs are retried (or failed when out of runs).
STALLED_SECONDS = 60.0
RESTART_SECONDS = 5.0
KEEP_SUCCEEDED_HOURS = 24 * 7
KEEP_FAILED_HOURS = 24 * 30


class _Retry(procrastinate_retry.BaseRetryStrategy):
    """procrastinate's retry hook, driven by a RetryPolicy; it also writes the failure's log line."""

    def __init__(self, policy: RetryPolicy, rand: Callable[[], float]) -> None:
        self.policy, self.rand = policy, rand

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> procrastinate_retry.RetryDecision | None:
        failed_runs = job.attempts + 1  # job.attempts counts the runs before this one
        delay = self.policy.delay(failed_runs, self.rand())
        log_failure(job.task_name, job.id, failed_runs, delay, exception)
        return None if delay is None else procrastinate_retry.RetryDecision(retry_in={"seconds": delay})


def _switch_role(role: str) -> Callable[[AsyncConnection[Any]], Any]:
    async def configure(connection: AsyncConnection[Any]) -> None:
        await connection.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        if not connection.autocommit:
            await connection.commit()

    return configure


class ProcrastinateJobQueue:
    """`conninfo` is a libpq URL; with `set_role`, each connection switches to that role first (an owner URL)."""

    def __init__(self, conninfo: str, *, set_role: str | None = None, retry: RetryPolicy = DEFAULT_RETRY,
                 queue: str = "default", pool_size: int = 4, polling_seconds: float = 5.0,
                 grace_seconds: float = 30.0, housekeeping: bool = True,
                 rand: Callable[[], float] = random.random) -> None:
        connector = procrastinate.PsycopgConnector(
            conninfo=conninfo, min_size=1, max_size=pool_size, name="commsinbox-jobs",
            configure=_switch_role(set_role) if set_role else None)
        self.app = procrastinate.App(connector=connector)
        self.retry, self.queue = retry, queue
        self.polling_seconds, self.grace_seconds = polling_seconds, grace_seconds
        self._rand = rand
        self._policies: dict[str, RetryPolicy] = {}
        if housekeeping:
            self._add_housekeeping()

    async def open(self) -> None:
        await self.app.open_async()

    async def aclose(self) -> None:
        await self.app.close_async()

    # JobQueue

    async def defer(self, task: str, args: dict[str, Any], *, at: dt.datetime | None = None,
                    lock: str | None = None, queueing_lock: str | None = None) -> None:
        if at is not None and at.tzinfo is None:
            raise ValueError("`at` must be timezone-aware")
        deferrer = self.app.configure_task(task, queue=self.queue, lock=lock, queueing_lock=queueing_lock,
                                           schedule_at=at)
        try:
            await deferrer.defer_async(**args)
        except procrastinate_errors.AlreadyEnqueued:
            log.debug("job not deferred: one is waiting with the same queueing lock",
                      extra={"task": task, "queueing_lock": queueing_lock})

    # JobWorker

    def register(self, task: str, handler: JobHandler, *, retry: RetryPolicy | None = None) -> None:
        policy = retry or self.retry

        async def run(**args: Any) -> None:
            await handler(args)

        self._policies[task] = policy
        self.app.task(name=task, queue=self.queue, retry=_Retry(policy, self._rand))(run)

    def register_periodic(self, task: str, cron: str, handler: JobHandler) -> None:
        self.register(task, handler, retry=NO_RETRY)
        lock = f"periodic:{task}"
        # One job per tick across all workers (procrastinate_periodic_defers is unique per task and tick); the
        # locks keep a slow tick from overlapping the next one, and skip ticks while one still waits.
        self.app.periodic(cron=cron, periodic_id=task, queue=self.queue, lock=lock, queueing_lock=lock)(
            self.app.tasks[task])

    async def work(self, *, concurrency: int = 1, queues: list[str] | None = None) -> None:
        """Runs a procrastinate worker on `queues` (all when None) until cancelled; restarts it when it stops on
        its own (procrastinate stops a worker whose heartbeat or listener failed, e.g. the database went away)."""
        name = f"{socket.gethostname()}:{os.getpid()}"
        while True:
            try:
                await self.app.run_worker_async(
                    name=name, queues=queues, concurrency=concurrency, install_signal_handlers=False,
                    fetch_job_polling_interval=self.polling_seconds, abort_job_polling_interval=self.polling_seconds,
                    shutdown_graceful_timeout=self.grace_seconds, update_heartbeat_interval=HEARTBEAT_SECONDS,
                    stalled_worker_timeout=STALLED_SECONDS)
                log.error("the job worker stopped; restarting it in %.0f s", RESTART_SECONDS)
            except Exception:
                log.exception("the job worker failed; restarting it in %.0f s", RESTART_SECONDS)
            await asyncio.sleep(RESTART_SECONDS)

    # housekeeping, as periodic tasks of every worker (each tick runs once)

    def _add_housekeeping(self) -> None:
        self.register_periodic("commsinbox.jobs.retry_stalled", "* * * * *", self._retry_stalled)
        self.register_periodic("commsinbox.jobs.remove_old", "17 * * * *", self._remove_old)

    async def _retry_stalled(self, args: dict[str, Any]) -> None:
        await self.retry_stalled()

    async def retry_stalled(self) -> int:
        """Jobs left running by a worker that stopped sending heartbeats (killed, crashed, cut off): each is
        retried per its policy, or failed when out of runs. Returns how many were found."""
        manager = self.app.job_manager
        stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_SECONDS))
        for job in stalled:
            assert job.id is not None
            failed_runs = job.attempts + 1
            delay = self._policies.get(job.task_name, self.retry).delay(failed_runs, self._rand())
            log_failure(job.task_name, job.id, failed_runs, delay, RuntimeError("its worker stopped responding"))
            try:
                if delay is None:
                    await manager.finish_job_by_id_async(job.id, status=Status.FAILED, delete_job=False)
                else:
                    await manager.retry_job_by_id_async(job.id, retry_at=dt.datetime.now(dt.UTC)
                                                        + dt.timedelta(seconds=delay))
            except procrastinate_errors.ConnectorException:  # e.g. another waiting job has its queueing lock
                log.exception("a stalled job could not be rescheduled", extra={"job_id": job.id})
        return len(stalled)

    async def _remove_old(self, args: dict[str, Any]) -> None:
        manager = self.app.job_manager
        await manager.delete_old_jobs(nb_hours=KEEP_SUCCEEDED_HOURS, include_cancelled=True, include_aborted=True)
        await manager.delete_old_jobs(nb_hours=KEEP_FAILED_HOURS, include_failed=True)
