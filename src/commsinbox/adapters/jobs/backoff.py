"""The provider-retry backoff of sends, computed by tenacity: jittered exponential (full jitter, AWS style)."""
from __future__ import annotations

import datetime as dt

import attrs
import tenacity


@attrs.frozen
class TenacityBackoff:
    """After the n-th failed try: a wait drawn uniformly from [min, min(first * 2 ** (n - 1), max)] seconds.
    Tenacity's `wait_random_exponential`, asked directly for its next wait: the send job schedules the retry itself
    (a later job run, not a sleep in this one), so tenacity's retry loop is not used, only its wait strategy."""

    first_seconds: float = 2.0
    max_seconds: float = 300.0
    min_seconds: float = 1.0

    def delay(self, attempt: int) -> dt.timedelta:
        strategy = tenacity.wait_random_exponential(multiplier=self.first_seconds, max=self.max_seconds,
                                                    min=self.min_seconds)
        state = tenacity.RetryCallState(retry_object=tenacity.AsyncRetrying(), fn=None, args=(), kwargs={})
        state.attempt_number = max(attempt, 1)
        return dt.timedelta(seconds=strategy(state))
