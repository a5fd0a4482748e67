"""A fixed-window failed-login counter kept in process memory (one process only)."""
from __future__ import annotations

import math

import attrs

from ...ports.clock import Clock


@attrs.define
class MemoryLoginThrottle:
    clock: Clock
    window_seconds: int = 300
    _failures: dict[str, tuple[float, int]] = attrs.field(factory=dict)

    def _current(self, key: str) -> tuple[float, int]:
        now = self.clock.now().timestamp()
        start, count = self._failures.get(key, (now, 0))
        return (now, 0) if now - start >= self.window_seconds else (start, count)

    async def blocked_for(self, key: str, limit: int) -> int:
        start, count = self._current(key)
        if count < limit:
            return 0
        return max(1, math.ceil(start + self.window_seconds - self.clock.now().timestamp()))

    async def record_failure(self, key: str) -> None:
        start, count = self._current(key)
        self._failures[key] = (start, count + 1)

    async def reset(self, key: str) -> None:
        self._failures.pop(key, None)
