"""Wake-ups for the live stream: a team's outbox may hold new events (read them through the team's unit of work)."""
from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from ..domain.model.ids import TeamId


class ChangeListener(Protocol):
    async def wait(self, timeout: float) -> None:
        """Returns once the team's outbox may have changed since the last wait (or since listening began), or
        after `timeout` seconds. Spurious wake-ups are allowed; missed ones are not."""
        ...


class ChangeNotifier(Protocol):
    def listen(self, team_id: TeamId) -> AbstractAsyncContextManager[ChangeListener]: ...
