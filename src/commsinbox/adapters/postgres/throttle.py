"""A fixed-window failed-login counter shared by every server process through PostgreSQL."""
from __future__ import annotations

import math

import attrs
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ...ports.clock import Clock

_FAIL = sa.text("""
    INSERT INTO auth_throttle AS t (key, window_start, count) VALUES (:key, :now, 1)
    ON CONFLICT (key) DO UPDATE SET
      window_start = CASE WHEN t.window_start <= :now - make_interval(secs => :window) THEN :now
                          ELSE t.window_start END,
      count = CASE WHEN t.window_start <= :now - make_interval(secs => :window) THEN 1 ELSE t.count + 1 END""")
_READ = sa.text("SELECT window_start, count FROM auth_throttle WHERE key = :key")


@attrs.define
class PostgresLoginThrottle:
    engine: AsyncEngine
    clock: Clock
    window_seconds: int = 300

    async def blocked_for(self, key: str, limit: int) -> int:
        async with self.engine.connect() as conn:
            row = (await conn.execute(_READ, {"key": key})).first()
        if row is None or row.count < limit:
            return 0
        remaining = row.window_start.timestamp() + self.window_seconds - self.clock.now().timestamp()
        return math.ceil(remaining) if remaining > 0 else 0

    async def record_failure(self, key: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(_FAIL, {"key": key, "now": self.clock.now(), "window": self.window_seconds})

    async def reset(self, key: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sa.text("DELETE FROM auth_throttle WHERE key = :key"), {"key": key})
