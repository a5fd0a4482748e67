from __future__ import annotations

import datetime as dt
import math

import pytest

from commsinbox.domain.model.channels import Provider
from commsinbox.domain.model.errors import InvalidInput
from commsinbox.domain.policies.rate_caps import DEFAULT_CAPS, META_PAIR, GcraResult, RateCap, check, gcra

pytestmark = pytest.mark.unit

T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
S, MS, US = dt.timedelta(seconds=1), dt.timedelta(milliseconds=1), dt.timedelta(microseconds=1)


def dispatch(cap: RateCap, count: int, start: dt.datetime = T0) -> list[dt.datetime]:
    """When `count` messages queued at `start` go out, each refused one retried exactly at its `retry_at` (as the
    dispatch job does)."""
    tat: dt.datetime | None = None
    now, sent = start, []
    while len(sent) < count:
        result = check(cap, tat, now)
        if result.allowed:
            sent.append(now)
            tat = result.new_tat
        else:
            assert result.retry_at is not None and result.retry_at > now
            assert result.new_tat == tat  # a refusal leaves the state as it was
            now = result.retry_at
    return sent


@pytest.mark.parametrize("per_second", [1, 3, 7, 80, 300, 1000])
def test_exactly_n_per_second_and_the_next_one_at_the_exact_instant(per_second: int) -> None:
    cap = RateCap(per_second, burst=1)
    sent = dispatch(cap, per_second + 1)
    in_first_second = [t for t in sent if t < T0 + S]
    assert len(in_first_second) == per_second
    assert sent == [T0 + k * cap.emission_interval for k in range(per_second + 1)]
    assert sent[-1] >= T0 + S


def test_eighty_per_second_the_81st_waits_until_exactly_one_second() -> None:
    cap = RateCap(80, burst=1)
    tat = None
    for k in range(80):
        result = check(cap, tat, T0 + k * dt.timedelta(microseconds=12_500))
        assert result.allowed, k
        tat = result.new_tat
    late = check(cap, tat, T0 + 999 * MS)
    assert late == GcraResult(False, T0 + S, T0 + S)
    assert check(cap, tat, T0 + S - US).allowed is False
    assert check(cap, tat, T0 + S) == GcraResult(True, T0 + S + dt.timedelta(microseconds=12_500), None)


def test_a_burst_goes_back_to_back_then_one_per_interval() -> None:
    interval = S
    tat, allowed = None, []
    for _ in range(6):
        result = gcra(tat, T0, interval, burst=5)
        allowed.append(result.allowed)
        if result.allowed:
            tat = result.new_tat
        else:
            assert result.retry_at == T0 + interval  # one slot frees up per interval
    assert allowed == [True] * 5 + [False]
    assert gcra(tat, T0 + interval - US, interval, 5).allowed is False
    at_one = gcra(tat, T0 + interval, interval, 5)
    assert at_one.allowed
    assert gcra(at_one.new_tat, T0 + interval, interval, 5) == GcraResult(False, T0 + 6 * S, T0 + 2 * S)


def test_an_idle_spell_refills_the_burst_but_never_beyond_it() -> None:
    tat = gcra(None, T0, S, 3).new_tat
    later = T0 + dt.timedelta(hours=1)
    results = []
    for _ in range(4):
        result = gcra(tat, later, S, 3)
        results.append(result.allowed)
        tat = result.new_tat
    assert results == [True, True, True, False]


def test_burst_one_is_strictly_one_per_interval() -> None:
    first = gcra(None, T0, 6 * S, 1)
    assert first == GcraResult(True, T0 + 6 * S, None)
    assert gcra(first.new_tat, T0, 6 * S, 1) == GcraResult(False, T0 + 6 * S, T0 + 6 * S)
    assert gcra(first.new_tat, T0 + 6 * S - US, 6 * S, 1).allowed is False
    assert gcra(first.new_tat, T0 + 6 * S, 6 * S, 1).allowed is True


@pytest.mark.parametrize("burst", [1, 2, 5, 45])
def test_no_span_ever_holds_more_than_burst_plus_span_over_interval(burst: int) -> None:
    cap = RateCap(10, burst)
    interval = cap.emission_interval
    sent = dispatch(cap, 200)
    for i, first in enumerate(sent):
        for j in range(i, len(sent)):
            span = sent[j] - first
            assert j - i + 1 <= burst + span // interval, (i, j)


def test_the_meta_pair_limit() -> None:
    assert META_PAIR.emission_interval == 6 * S
    sent = dispatch(META_PAIR, 12)
    assert sent[:10] == [T0] * 10  # 10 back to back
    assert sent[10:] == [T0 + 6 * S, T0 + 12 * S]


def test_a_tat_in_the_past_counts_as_now() -> None:
    assert gcra(T0 - dt.timedelta(days=1), T0, S, 1) == GcraResult(True, T0 + S, None)


@pytest.mark.parametrize("per_second, interval", [
    (80, dt.timedelta(microseconds=12_500)), (1 / 6, 6 * S), (3, dt.timedelta(microseconds=333_334)),
    (0.5, 2 * S), (1_000_000, US), (300, dt.timedelta(microseconds=3_334)),
])
def test_the_emission_interval_is_rounded_up_to_the_microsecond(per_second: float, interval: dt.timedelta) -> None:
    assert RateCap(per_second).emission_interval == interval
    assert RateCap.every(interval).emission_interval == interval


@pytest.mark.parametrize("per_second, burst", [
    (0, 1), (-1, 1), (math.inf, 1), (math.nan, 1), (True, 1), ("80", 1), (2_000_000, 1),
    (80, 0), (80, 1.5), (80, True), (80, 10_001),
])
def test_bad_caps_are_refused(per_second: object, burst: object) -> None:
    with pytest.raises(ValueError):
        RateCap(per_second, burst)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as bad:
        RateCap.parse(per_second, burst, path="caps.account")
    assert [f.path for f in bad.value.fields] == [
        "caps.account.burst" if isinstance(per_second, int | float) and not isinstance(per_second, bool)
        and 0 < per_second <= 1_000_000 else "caps.account.perSecond"]


def test_parse_accepts_a_good_cap() -> None:
    assert RateCap.parse(20, 3) == RateCap(20.0, 3)


@pytest.mark.parametrize("interval, burst", [(dt.timedelta(0), 1), (-S, 1), (S, 0)])
def test_gcra_refuses_nonsense_arguments(interval: dt.timedelta, burst: int) -> None:
    with pytest.raises(ValueError):
        gcra(None, T0, interval, burst)


@pytest.mark.parametrize("provider, account, pair", [
    (Provider.WHATSAPP_META, RateCap(80, 1), RateCap.every(6 * S, 10)),
    (Provider.WHATSAPP_TWILIO, RateCap(80, 1), RateCap.every(6 * S, 10)),
    (Provider.INSTAGRAM_META, RateCap(300, 1), RateCap.every(6 * S, 10)),
    (Provider.WHATSAPP_BAILEYS, RateCap(1, 5), RateCap.every(6 * S, 10)),
])
def test_provider_defaults(provider: Provider, account: RateCap, pair: RateCap) -> None:
    assert (DEFAULT_CAPS[provider].account, DEFAULT_CAPS[provider].pair) == (account, pair)
    assert set(DEFAULT_CAPS) == set(Provider)
