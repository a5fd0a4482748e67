"""The job registry: which function runs each task, and which tasks run on a schedule (ADR 0012).

To add a job, write `async def my_job(services: Services, args: dict[str, Any]) -> None` that calls a use case
with the ids in `args`, add it to JOB_HANDLERS under its task name, and defer it from a use case with
`await self.jobs.defer("my.task", {"message_id": ...})`. A periodic task is a `(name, cron, function)` in
PERIODIC; its function gets `{"timestamp": <unix seconds of the tick>}`. The container binds every entry to the
Services of the process, for both queues: memory_services() runs jobs in-process, postgres_services() defers
them to procrastinate and `commsinbox worker` (or `serve`'s in-process worker) runs them.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..domain.usecases import receipts
from ..domain.usecases.outbound import SEND_TASK
from ..ports.jobs import JobWorker, RetryPolicy

if TYPE_CHECKING:  # the container imports this module; jobs only need the type
    from .container import Services

log = logging.getLogger("commsinbox.jobs")

JobFunction = Callable[["Services", dict[str, Any]], Awaitable[None]]

#: Concurrent jobs of `commsinbox worker` (override with --concurrency) and of `serve`'s in-process worker.
WORKER_CONCURRENCY = 10
SERVE_WORKER_CONCURRENCY = 4


async def ping(services: Services, args: dict[str, Any]) -> None:
    """A job that only logs: deferring `jobs.ping` and seeing it succeed shows a worker is taking jobs."""
    log.info("ping job ran", extra={"ping": args.get("id")})


async def send(services: Services, args: dict[str, Any]) -> None:
    """An account's due outbound messages, to its provider under its rate caps (usecases.dispatch)."""
    await services.dispatcher.run(args["team_id"], args["account_id"])


async def sweep_sends(services: Services, args: dict[str, Any]) -> None:
    """Expired send holds → unknown; accounts with due messages whose job was lost get one again."""
    await services.dispatcher.sweep()


async def read_receipt(services: Services, args: dict[str, Any]) -> None:
    await services.receipts.send(args["team_id"], args["thread_id"])


JOB_HANDLERS: dict[str, JobFunction] = {
    "jobs.ping": ping,
    SEND_TASK: send,
    receipts.TASK: read_receipt,
}

#: (task name, 5-field cron in UTC, function): one run per tick however many workers run.
PERIODIC: list[tuple[str, str, JobFunction]] = [
    ("outbound.sweep", "* * * * *", sweep_sends),
]

#: Retry policies for tasks that should not use ports.jobs.DEFAULT_RETRY.
RETRY: dict[str, RetryPolicy] = {}


def bind(worker: JobWorker, services: Services) -> None:
    """Registers every job and periodic task with `worker`, each bound to `services`."""
    for name, function in JOB_HANDLERS.items():
        worker.register(name, functools.partial(function, services), retry=RETRY.get(name))
    for name, cron, function in PERIODIC:
        worker.register_periodic(name, cron, functools.partial(function, services))
