"""Several procrastinate workers on one database: a periodic tick runs once in all, and the jobs of a worker that
stopped sending heartbeats are retried (or failed when out of runs)."""
from __future__ import annotations

import asyncio
import collections
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from commsinbox.adapters.jobs.procrastinate_queue import STALLED_SECONDS
from commsinbox.adapters.postgres import migrate
from commsinbox.ports.jobs import RetryPolicy
from tests.contracts.test_jobs import eventually, procrastinate_queue

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


async def test_two_workers_run_each_periodic_tick_once(pg_owner_url: str) -> None:
    name = f"test_{uuid.uuid4().hex[:12]}"
    ticks: list[int] = []

    async def tick(args: dict[str, Any]) -> None:
        ticks.append(args["timestamp"])

    queues = [procrastinate_queue(pg_owner_url, name) for _ in range(2)]  # two processes, as `serve --workers 2`
    for queue in queues:
        queue.register_periodic(f"t.tick_{name}", "* * * * * *", tick)
        await queue.open()
    workers = [asyncio.create_task(queue.work(concurrency=2, queues=[name])) for queue in queues]
    try:
        await eventually(lambda: len(ticks) >= 4)
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for queue in queues:
            await queue.aclose()
    assert [t for t, n in collections.Counter(ticks).items() if n > 1] == []


def run(url: str, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        result = conn.execute(sa.text(statement), params)
        rows = [tuple(r) for r in result] if result.returns_rows else []
    engine.dispose()
    return rows


@pytest.mark.parametrize(("max_attempts", "status"), [(3, "todo"), (1, "failed")])
async def test_the_jobs_of_a_silent_worker_are_retried_or_failed(fresh_database: str, max_attempts: int,
                                                                 status: str) -> None:
    migrate.upgrade(fresh_database)
    queue = procrastinate_queue(fresh_database, "default")

    async def never_called(args: dict[str, Any]) -> None:
        raise AssertionError("the job is only rescheduled here")

    queue.register("t.send", never_called, retry=RetryPolicy(max_attempts=max_attempts, first_delay=60, jitter=0))
    await queue.open()
    try:
        await queue.defer("t.send", {"message_id": "m-1"})
        [(worker_id,)] = run(fresh_database, "INSERT INTO procrastinate_workers (last_heartbeat) VALUES "
                             "(now() - make_interval(secs => :age)) RETURNING id", age=STALLED_SECONDS + 5)
        run(fresh_database, "UPDATE procrastinate_jobs SET status = 'doing', worker_id = :w", w=worker_id)
        assert await queue.retry_stalled() == 1
        assert await queue.retry_stalled() == 0  # nothing left running on the silent worker
    finally:
        await queue.aclose()
    [(found, attempts, delay)] = run(fresh_database, "SELECT status::text, attempts, "
                                     "extract(epoch FROM scheduled_at - now()) FROM procrastinate_jobs")
    assert found == status
    if status == "todo":  # retried after the policy's first delay, as if the run had failed
        assert attempts == 1 and 50 < float(delay) <= 60
