"""Rate-cap state in PostgreSQL (`rate_limits`, a system table), so every worker process shares one allowance.

One transaction per send, or per batch of sends: the keys' rows created if new, then locked in key order (so two
senders never deadlock) and read, the pure GCRA for each send in turn (`policies.rate_caps.decide_in_order`),
and one update of the tats that moved. A concurrent sender waits for the row locks, then reads the tats just
written.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine

from ...domain.policies.rate_caps import Refused, decide_in_order
from ...ports.rates import SendKeys
from .schema import Stamp

NEVER = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # the tat of a key never used: before any `now`

_CREATE = sa.text("""
    INSERT INTO rate_limits (key, tat) SELECT k, :never FROM unnest(:keys) AS k ORDER BY k ON CONFLICT (key) DO NOTHING
    """).bindparams(sa.bindparam("keys", type_=ARRAY(sa.Text)), sa.bindparam("never", type_=Stamp))
_LOCK = sa.text("SELECT key, tat FROM rate_limits WHERE key = ANY(:keys) ORDER BY key FOR UPDATE").bindparams(
    sa.bindparam("keys", type_=ARRAY(sa.Text)))
_SAVE = sa.text("""
    UPDATE rate_limits AS r SET tat = v.tat FROM unnest(:keys, :tats) AS v(key, tat) WHERE r.key = v.key
    """).bindparams(sa.bindparam("keys", type_=ARRAY(sa.Text)), sa.bindparam("tats", type_=ARRAY(Stamp)))


@attrs.define
class PostgresRateLimiter:
    engine: AsyncEngine

    async def acquire(self, keys: SendKeys, now: dt.datetime) -> Refused | None:
        return (await self.acquire_many([keys], now))[0]

    async def acquire_many(self, sends: Sequence[SendKeys], now: dt.datetime) -> list[Refused | None]:
        names = sorted({key for keys in sends for key, _ in keys})
        if not names:
            return [None] * len(sends)
        async with self.engine.begin() as conn:
            await conn.execute(_CREATE, {"keys": names, "never": NEVER})
            rows = await conn.execute(_LOCK, {"keys": names})
            tats: dict[str, dt.datetime | None] = {row.key: row.tat for row in rows}
            before = dict(tats)
            results = decide_in_order(tats, sends, now)
            changed = {key: tat for key, tat in tats.items() if tat != before.get(key) and tat is not None}
            if changed:
                await conn.execute(_SAVE, {"keys": list(changed), "tats": list(changed.values())})
        return results
