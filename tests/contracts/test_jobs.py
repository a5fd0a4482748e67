"""The job queue on both adapters: args arrive, `at` waits, queueing locks dedupe, locks serialise, failures retry
and are logged, periodic ticks run. The procrastinate queue runs as the application role, so its grants are
exercised too."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import sqlalchemy as sa

from commsinbox.adapters.jobs.procrastinate_queue import ProcrastinateJobQueue
from commsinbox.adapters.jobs.procrastinate_schema import libpq_url
from commsinbox.adapters.memory.jobs import MemoryJobQueue
from commsinbox.adapters.postgres.schema import APP_ROLE
from commsinbox.ports.jobs import RetryPolicy

pytestmark = pytest.mark.integration
FAST = RetryPolicy(max_attempts=3, first_delay=0.2, factor=2.0, jitter=0.0)
TIMEOUT = 15.0


class Harness:
    """One queue, started after the test registered its handlers (periodic tasks must be known before)."""

    def __init__(self, queue: MemoryJobQueue | ProcrastinateJobQueue, queues: list[str] | None,
                 statuses: Callable[[str], Any]) -> None:
        self.queue, self._queues, self.statuses = queue, queues, statuses
        self.worker: asyncio.Task[None] | None = None

    def start(self, concurrency: int = 4) -> None:
        if isinstance(self.queue, ProcrastinateJobQueue):
            self.worker = asyncio.create_task(self.queue.work(concurrency=concurrency, queues=self._queues))
        else:
            self.worker = asyncio.create_task(self.queue.work(concurrency=concurrency))

    async def stop(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            await asyncio.gather(self.worker, return_exceptions=True)


async def eventually(check: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def procrastinate_queue(owner_url: str, queue_name: str, **options: Any) -> ProcrastinateJobQueue:
    """Owner URL + SET ROLE: the application role's grants are what the queue gets."""
    return ProcrastinateJobQueue(libpq_url(owner_url), set_role=APP_ROLE, queue=queue_name, polling_seconds=0.05,
                                 grace_seconds=2.0, housekeeping=False, retry=FAST, **options)


def pg_statuses(owner_url: str, queue_name: str) -> Callable[[str], list[str]]:
    def statuses(task: str) -> list[str]:
        engine = sa.create_engine(owner_url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT status FROM procrastinate_jobs WHERE queue_name = :q AND "
                                        "task_name = :t ORDER BY id"), {"q": queue_name, "t": task}).scalars().all()
        engine.dispose()
        return [str(s) for s in rows]

    return statuses


@pytest.fixture(params=["memory", "postgres"])
async def jobs(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    if request.param == "memory":
        memory = MemoryJobQueue(retry=FAST)
        harness = Harness(memory, None, lambda task: [j.status for j in memory.jobs if j.task == task])
        yield harness
        await harness.stop()
        await memory.aclose()
        return
    owner_url = request.getfixturevalue("pg_owner_url")
    name = f"test_{uuid.uuid4().hex[:12]}"  # the shared database may hold other tests' jobs: a queue of our own
    queue = procrastinate_queue(owner_url, name)
    await queue.open()
    harness = Harness(queue, [name], pg_statuses(owner_url, name))
    yield harness
    await harness.stop()
    await queue.aclose()


def recorder() -> tuple[list[tuple[float, dict[str, Any]]], Callable[[dict[str, Any]], Any]]:
    runs: list[tuple[float, dict[str, Any]]] = []

    async def handler(args: dict[str, Any]) -> None:
        runs.append((time.time(), args))

    return runs, handler


async def test_a_job_runs_with_its_args(jobs: Harness) -> None:
    runs, handler = recorder()
    jobs.queue.register("t.echo", handler)
    jobs.start()
    await jobs.queue.defer("t.echo", {"message_id": "m-1", "attempt": 2})
    await eventually(lambda: len(runs) == 1)
    assert runs[0][1] == {"message_id": "m-1", "attempt": 2}
    await eventually(lambda: jobs.statuses("t.echo") == ["succeeded"])


async def test_a_job_at_a_future_time_waits_for_it(jobs: Harness) -> None:
    runs, handler = recorder()
    jobs.queue.register("t.later", handler)
    jobs.start()
    at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)  # far enough for a loaded machine to run the other first
    await jobs.queue.defer("t.later", {"n": 1}, at=at)
    await jobs.queue.defer("t.later", {"n": 2})
    await eventually(lambda: len(runs) >= 1)
    await asyncio.sleep(0.3)
    assert [args for _, args in runs] == [{"n": 2}]  # the one due now ran, the other still waits
    await eventually(lambda: len(runs) == 2)
    assert runs[1][1] == {"n": 1} and runs[1][0] >= at.timestamp() - 0.05


async def test_one_waiting_job_per_queueing_lock(jobs: Harness) -> None:
    runs, handler = recorder()
    jobs.queue.register("t.sweep", handler)
    jobs.start()
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)  # still waiting when the second defer comes
    await jobs.queue.defer("t.sweep", {"n": 1}, at=soon, queueing_lock="sweep:team-1")
    await jobs.queue.defer("t.sweep", {"n": 2}, queueing_lock="sweep:team-1")  # one waits: a no-op
    await jobs.queue.defer("t.sweep", {"n": 3}, queueing_lock="sweep:team-2")  # another value: its own job
    await eventually(lambda: len(runs) == 2)
    await asyncio.sleep(0.3)
    assert sorted(args["n"] for _, args in runs) == [1, 3]
    await jobs.queue.defer("t.sweep", {"n": 4}, queueing_lock="sweep:team-1")  # none waits any more
    await eventually(lambda: len(runs) == 3)


@pytest.mark.parametrize("lock", ["thread:1", None])
async def test_jobs_with_one_lock_run_one_at_a_time_in_order(jobs: Harness, lock: str | None) -> None:
    running, most, order = 0, 0, []

    async def handler(args: dict[str, Any]) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.2)
        order.append(args["n"])
        running -= 1

    jobs.queue.register("t.locked", handler)
    jobs.start(concurrency=4)
    for n in range(4):
        await jobs.queue.defer("t.locked", {"n": n}, lock=lock)
    await eventually(lambda: len(order) == 4)
    if lock is None:
        assert most > 1  # without a lock they overlap, so the check below can see overlap
    else:
        assert (most, order) == (1, [0, 1, 2, 3])


async def test_a_failing_job_is_retried_with_backoff_and_logged(jobs: Harness, caplog: pytest.LogCaptureFixture
                                                                 ) -> None:
    times: list[float] = []

    async def flaky(args: dict[str, Any]) -> None:
        times.append(time.monotonic())
        if len(times) < 3:
            raise ConnectionError("provider unreachable")

    jobs.queue.register("t.flaky", flaky)
    jobs.start()
    with caplog.at_level(logging.WARNING, logger="commsinbox.jobs"):
        await jobs.queue.defer("t.flaky", {"id": "x"})
        await eventually(lambda: jobs.statuses("t.flaky") == ["succeeded"])
    assert len(times) == 3
    assert times[1] - times[0] >= 0.2 - 0.05 and times[2] - times[1] >= 0.4 - 0.05  # 0.2 s, then 0.4 s
    retried = [r for r in caplog.records if r.name == "commsinbox.jobs" and r.levelno == logging.WARNING]
    assert [(r.task, r.failed_runs, r.retry_in_seconds) for r in retried] == [  # type: ignore[attr-defined]
        ("t.flaky", 1, 0.2), ("t.flaky", 2, 0.4)]
    assert all(r.exc_info and isinstance(r.exc_info[1], ConnectionError) for r in retried)


async def test_a_job_out_of_runs_is_failed_logged_and_kept(jobs: Harness, caplog: pytest.LogCaptureFixture) -> None:
    runs = 0

    async def broken(args: dict[str, Any]) -> None:
        nonlocal runs
        runs += 1
        raise ValueError("bad data")

    jobs.queue.register("t.broken", broken, retry=RetryPolicy(max_attempts=2, first_delay=0.1, jitter=0.0))
    jobs.start()
    with caplog.at_level(logging.WARNING, logger="commsinbox.jobs"):
        await jobs.queue.defer("t.broken", {"id": "y"})
        await eventually(lambda: jobs.statuses("t.broken") == ["failed"])
        await asyncio.sleep(0.4)
    assert runs == 2
    final = [r for r in caplog.records if r.name == "commsinbox.jobs" and r.levelno == logging.ERROR]
    assert [(r.task, r.failed_runs) for r in final] == [("t.broken", 2)]  # type: ignore[attr-defined]


async def test_a_periodic_task_runs_at_each_tick(jobs: Harness) -> None:
    ticks: list[int] = []

    async def tick(args: dict[str, Any]) -> None:
        ticks.append(args["timestamp"])

    jobs.queue.register_periodic("t.every_second", "* * * * * *", tick)  # 6th field: seconds
    jobs.start()
    await eventually(lambda: len(ticks) >= 2)
    assert ticks[1] > ticks[0] and abs(ticks[0] - time.time()) < 5
