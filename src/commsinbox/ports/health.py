"""Health probes."""
from __future__ import annotations

from typing import Protocol


class DatabaseProbe(Protocol):
    async def ping(self) -> bool:
        """True when a round trip to the database succeeds in time."""
        ...
