"""Rate-cap state in process memory (one process only): the pure GCRA under one asyncio lock."""
from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence

import attrs

from ...domain.policies.rate_caps import Refused, decide_in_order
from ...ports.rates import SendKeys


@attrs.define
class MemoryRateLimiter:
    tats: dict[str, dt.datetime | None] = attrs.field(factory=dict)
    _lock: asyncio.Lock = attrs.field(factory=asyncio.Lock)

    async def acquire(self, keys: SendKeys, now: dt.datetime) -> Refused | None:
        return (await self.acquire_many([keys], now))[0]

    async def acquire_many(self, sends: Sequence[SendKeys], now: dt.datetime) -> list[Refused | None]:
        async with self._lock:
            return decide_in_order(self.tats, sends, now)
