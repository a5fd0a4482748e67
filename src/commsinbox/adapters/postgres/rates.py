"""Rate-cap state in PostgreSQL (`rate_limits`, a system table), so every worker process shares one allowance.

One transaction per send: an upsert that locks the keys' rows (in key order, so two senders never deadlock) and
returns their tats, the pure GCRA (`policies.rate_caps.decide_all`), and, when every key allows the send, one
update of the new tats. A concurrent sender waits for the row locks and then reads the tats just written.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine

from ...domain.model.rates import RateCap
from ...domain.policies.rate_caps import Refused, decide_all
from .schema import Stamp

NEVER = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # the tat of a key never used: before any `now`

_LOCK = sa.text("""
    INSERT INTO rate_limits AS r (key, tat) SELECT k, :never FROM unnest(:keys) AS k ORDER BY k
    ON CONFLICT (key) DO UPDATE SET tat = r.tat
    RETURNING r.key, r.tat""").bindparams(sa.bindparam("keys", type_=ARRAY(sa.Text)),
                                          sa.bindparam("never", type_=Stamp))
_SAVE = sa.text("""
    UPDATE rate_limits AS r SET tat = v.tat FROM unnest(:keys, :tats) AS v(key, tat) WHERE r.key = v.key
    """).bindparams(sa.bindparam("keys", type_=ARRAY(sa.Text)), sa.bindparam("tats", type_=ARRAY(Stamp)))


@attrs.define
class PostgresRateLimiter:
    engine: AsyncEngine

    async def acquire(self, keys: Sequence[tuple[str, RateCap]], now: dt.datetime) -> Refused | None:
        caps = dict(keys)
        async with self.engine.begin() as conn:
            rows = await conn.execute(_LOCK, {"keys": sorted(caps), "never": NEVER})
            states = {row.key: (caps[row.key], row.tat) for row in rows}
            new_tats, refused = decide_all(states, now)
            if new_tats:
                await conn.execute(_SAVE, {"keys": list(new_tats), "tats": list(new_tats.values())})
        return refused
