"""The job worker inside `serve` (ADR 0012): embedded mode has no other process, and a small deployment needs
none. `serve --no-worker` leaves the jobs to `commsinbox worker` processes."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from ..jobs import SERVE_WORKER_CONCURRENCY
from .keys import services_key


async def job_worker(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: runs the worker while the app runs; at shutdown, running jobs get the grace period."""
    task = asyncio.get_running_loop().create_task(
        app[services_key].job_worker.work(concurrency=SERVE_WORKER_CONCURRENCY), name="job worker")
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
