"""Live-stream wake-ups across processes: one LISTEN connection per process on the channel the outbox trigger
(migration 0004) notifies with a team id. Events themselves are read through the team's unit of work, under
row-level security; a notification carries nothing but the team id."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import attrs
import psycopg
from sqlalchemy.engine import URL

from ...domain.model.ids import TeamId
from ..memory.live import EventListener

log = logging.getLogger("commsinbox.live")

CHANNEL = "commsinbox_outbox"


@attrs.define
class PostgresChangeNotifier:
    """Opens its connection on the first `listen`; reconnects with backoff, waking every listener after a gap
    (a notification may have been missed while disconnected)."""

    url: URL = attrs.field(repr=False)
    retry_seconds: float = 1.0
    _listeners: dict[str, set[asyncio.Event]] = attrs.field(factory=dict, init=False)
    _task: asyncio.Task[None] | None = attrs.field(default=None, init=False)
    _connected: asyncio.Event = attrs.field(factory=asyncio.Event, init=False)

    @contextlib.asynccontextmanager
    async def listen(self, team_id: TeamId) -> AsyncIterator[EventListener]:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="live-listen")
        await asyncio.wait_for(self._connected.wait(), 10)  # from here on no notification is missed
        listener = EventListener()
        listeners = self._listeners.setdefault(team_id, set())
        listeners.add(listener.event)
        try:
            yield listener
        finally:
            listeners.discard(listener.event)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        delay = self.retry_seconds
        conninfo = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._wake_all()
                    self._connected.set()
                    delay = self.retry_seconds
                    async for notification in conn.notifies():
                        for event in self._listeners.get(notification.payload, ()):
                            event.set()
            except psycopg.Error as exc:
                log.warning("live updates: lost the LISTEN connection (%s); retrying in %.0f s",
                            type(exc).__name__, delay)
            self._wake_all()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    def _wake_all(self) -> None:
        for events in self._listeners.values():
            for event in events:
                event.set()
