"""Rate caps: how fast one account, or one account towards one recipient, may send."""
from __future__ import annotations

import datetime as dt
import math

import attrs

from .errors import InvalidInput

MAX_BURST = 10_000


def _positive_rate(_instance: object, _attribute: object, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValueError("per_second must be a positive finite number")
    if value > 1_000_000:
        raise ValueError("per_second must be at most 1000000 (one per microsecond)")


def _burst(_instance: object, _attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BURST:
        raise ValueError(f"burst must be an integer from 1 to {MAX_BURST}")


@attrs.frozen
class RateCap:
    """`per_second` messages per second sustained; `burst` of them may go back to back after a quiet spell
    (burst=1: strictly one per emission interval). See `policies.rate_caps.gcra`."""

    per_second: float = attrs.field(validator=_positive_rate)
    burst: int = attrs.field(default=1, validator=_burst)

    @classmethod
    def every(cls, interval: dt.timedelta, burst: int = 1) -> RateCap:
        """One message per `interval`, e.g. `RateCap.every(timedelta(seconds=6))`."""
        return cls(1 / interval.total_seconds(), burst)

    @classmethod
    def parse(cls, per_second: object, burst: object, path: str = "rateCap") -> RateCap:
        """A team's setting; raises InvalidInput naming `<path>.perSecond` or `<path>.burst`."""
        try:
            _positive_rate(None, None, per_second)  # type: ignore[arg-type]
        except ValueError as error:
            raise InvalidInput.single(f"{path}.perSecond", str(error).removeprefix("per_second ")) from None
        try:
            _burst(None, None, burst)  # type: ignore[arg-type]
        except ValueError as error:
            raise InvalidInput.single(f"{path}.burst", str(error).removeprefix("burst ")) from None
        return cls(per_second, burst)  # type: ignore[arg-type]

    @property
    def emission_interval(self) -> dt.timedelta:
        """1 / per_second, rounded *up* to the microsecond so the cap is never exceeded (3/s → 333 334 µs)."""
        return dt.timedelta(microseconds=math.ceil(round(1_000_000 / self.per_second, 6)))
