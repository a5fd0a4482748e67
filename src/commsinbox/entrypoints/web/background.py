"""Work that continues after a response (media downloads) and the retry loop for stored inbound events."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from aiohttp import web

from .keys import services_key

log = logging.getLogger("commsinbox.background")
tasks_key = web.AppKey("background_tasks", set[asyncio.Task[Any]])
RETRY_EVERY_SECONDS = 5.0


def run_in_background(app: web.Application, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    task = asyncio.get_running_loop().create_task(work)
    app[tasks_key].add(task)
    task.add_done_callback(_finished(app))
    return task


def _finished(app: web.Application) -> Any:
    def done(task: asyncio.Task[Any]) -> None:
        app[tasks_key].discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background work failed", exc_info=task.exception())

    return done


async def drain(app: web.Application) -> None:
    """Waits for the background work started so far (tests, graceful shutdown)."""
    while app[tasks_key]:
        await asyncio.gather(*list(app[tasks_key]), return_exceptions=True)


async def background(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: the tasks set, and a loop that retries stored events and media downloads that failed
    or were interrupted."""
    app[tasks_key] = set()
    retry = asyncio.get_running_loop().create_task(_retry_forever(app))
    yield
    retry.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await retry
    await drain(app)


async def _retry_forever(app: web.Application) -> None:
    while True:
        await asyncio.sleep(RETRY_EVERY_SECONDS)
        try:
            result = await app[services_key].inbound.process()
            if result.with_media:
                await app[services_key].media.fetch(result.with_media)
            await app[services_key].media.sweep()
        except Exception:  # the loop must survive a database hiccup
            log.exception("retrying stored inbound events failed")
