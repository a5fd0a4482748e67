"""Rate caps shared by every process that sends: a GCRA state per key (policies.rate_caps)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from ..domain.model.rates import RateCap
from ..domain.policies.rate_caps import Refused


class RateLimiter(Protocol):
    async def acquire(self, keys: Sequence[tuple[str, RateCap]], now: dt.datetime) -> Refused | None:
        """Takes one send from each key's cap, all or none, atomically for every process sharing the state.
        None: allowed (every key consumed). Otherwise the earliest instant at which the same call would be allowed
        and the keys over their cap, and no key consumed (a refusal by one key never spends another key's
        allowance)."""
        ...


__all__ = ["RateLimiter", "Refused"]
