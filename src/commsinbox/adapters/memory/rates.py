"""Rate-cap state in process memory (one process only): the pure GCRA under one asyncio lock."""
from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence

import attrs

from ...domain.model.rates import RateCap
from ...domain.policies.rate_caps import Refused, decide_all


@attrs.define
class MemoryRateLimiter:
    tats: dict[str, dt.datetime] = attrs.field(factory=dict)
    _lock: asyncio.Lock = attrs.field(factory=asyncio.Lock)

    async def acquire(self, keys: Sequence[tuple[str, RateCap]], now: dt.datetime) -> Refused | None:
        async with self._lock:
            new_tats, refused = decide_all({key: (cap, self.tats.get(key)) for key, cap in keys}, now)
            self.tats.update(new_tats)
            return refused
