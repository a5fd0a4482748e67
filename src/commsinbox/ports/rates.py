"""Rate caps shared by every process that sends: a GCRA state per key (policies.rate_caps)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from ..domain.model.rates import RateCap
from ..domain.policies.rate_caps import Refused

#: The (key, cap) pairs one send takes a token from (policies.rate_caps.send_caps).
SendKeys = Sequence[tuple[str, RateCap]]


class RateLimiter(Protocol):
    async def acquire(self, keys: SendKeys, now: dt.datetime) -> Refused | None:
        """Takes one send from each key's cap, all or none, atomically for every process sharing the state.
        None: allowed (every key consumed). Otherwise the earliest instant at which the same call would be allowed
        and the keys over their cap, and no key consumed (a refusal by one key never spends another key's
        allowance)."""
        ...

    async def acquire_many(self, sends: Sequence[SendKeys], now: dt.datetime) -> list[Refused | None]:
        """`acquire` for each send in turn, in one atomic step (a send job's batch): each send sees what the
        earlier ones took."""
        ...


__all__ = ["RateLimiter", "Refused", "SendKeys"]
