"""Live-stream wake-ups inside one process: committed outbox rows set the team's listeners' events."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import attrs

from ...domain.model.ids import TeamId
from .store import MemoryDatabase


@attrs.define
class EventListener:
    """Waits for its event; set by whoever sees the team's outbox grow."""

    event: asyncio.Event = attrs.field(factory=asyncio.Event)

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), timeout)
        self.event.clear()


@attrs.define
class MemoryChangeNotifier:
    db: MemoryDatabase

    @contextlib.asynccontextmanager
    async def listen(self, team_id: TeamId) -> AsyncIterator[EventListener]:
        listener = EventListener()
        listeners = self.db.listeners.setdefault(team_id, set())
        listeners.add(listener.event)
        try:
            yield listener
        finally:
            listeners.discard(listener.event)
