"""`/health/db`: one round trip with a short timeout."""
from __future__ import annotations

import asyncio
import logging

import attrs
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("commsinbox.health")


@attrs.define
class PostgresProbe:
    engine: AsyncEngine
    timeout_seconds: float = 2.0

    async def ping(self) -> bool:
        try:
            async with asyncio.timeout(self.timeout_seconds):
                async with self.engine.connect() as conn:
                    await conn.execute(sa.text("SELECT 1"))
        except Exception as exc:  # any failure means "not healthy"; the reason goes to the log
            log.warning("database unreachable: %s", type(exc).__name__)
            return False
        return True
