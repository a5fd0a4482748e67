from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from commsinbox.domain.model.values import QuietHours
from commsinbox.domain.policies.decision import QUIET_HOURS, Allowed, Deferred
from commsinbox.domain.policies.quiet_hours import quiet_hours_decision, quiet_until

pytestmark = pytest.mark.unit

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
TOKYO = ZoneInfo("Asia/Tokyo")
NIGHT = QuietHours.parse("21:00-08:00")


def utc(local: dt.datetime) -> dt.datetime:
    return local.astimezone(dt.UTC)


def local(tz: ZoneInfo, *args: int, fold: int = 0) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz, fold=fold)  # type: ignore[misc]


# -- boundaries in the team's time zone ---------------------------------------------------------------------


@pytest.mark.parametrize("tz", [SAO_PAULO, NEW_YORK, LONDON, TOKYO, ZoneInfo("UTC")], ids=str)
@pytest.mark.parametrize("wall, ends", [
    ((20, 59), None),
    ((20, 59, 59, 999999), None),
    ((21, 0), (2, 8, 0)),  # quiet until 08:00 on the next day
    ((23, 59, 59), (2, 8, 0)),
    ((0, 0), (1, 8, 0)),  # after midnight: until 08:00 on the same day
    ((7, 59), (1, 8, 0)),
    ((7, 59, 59, 999999), (1, 8, 0)),
    ((8, 0), None),
    ((12, 0), None),
])
def test_the_window_is_start_inclusive_and_end_exclusive(tz: ZoneInfo, wall: tuple[int, ...],
                                                         ends: tuple[int, int, int] | None) -> None:
    now = utc(local(tz, 2026, 6, 1, *wall))
    expected = None if ends is None else utc(local(tz, 2026, 6, ends[0], ends[1], ends[2]))
    assert quiet_until(now, NIGHT, tz) == expected


@pytest.mark.parametrize("wall, ends", [
    ((12, 59), None), ((13, 0), (15, 0)), ((14, 59), (15, 0)), ((15, 0), None), ((23, 0), None), ((0, 30), None),
])
def test_a_window_that_does_not_cross_midnight(wall: tuple[int, int], ends: tuple[int, int] | None) -> None:
    window = QuietHours.parse("13:00-15:00")
    now = utc(local(SAO_PAULO, 2026, 6, 1, *wall))
    expected = None if ends is None else utc(local(SAO_PAULO, 2026, 6, 1, *ends))
    assert quiet_until(now, window, SAO_PAULO) == expected


def test_the_answer_is_utc_and_any_aware_now_is_accepted() -> None:
    now = local(SAO_PAULO, 2026, 6, 1, 22, 0)  # not converted to UTC by the caller
    until = quiet_until(now, NIGHT, SAO_PAULO)
    assert until == dt.datetime(2026, 6, 2, 11, 0, tzinfo=dt.UTC)
    assert until is not None and until.tzinfo is dt.UTC


def test_a_naive_now_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        quiet_until(dt.datetime(2026, 6, 1, 22, 0), NIGHT, SAO_PAULO)


# -- DST change days ----------------------------------------------------------------------------------------
# New York 2026: 8 March 02:00 EST -> 03:00 EDT; 1 November 02:00 EDT -> 01:00 EST.
# London 2026: 29 March 01:00 GMT -> 02:00 BST; 25 October 02:00 BST -> 01:00 GMT.


@pytest.mark.parametrize("tz, now, window, expected", [
    # overnight window across spring forward: 08:00 EDT is 12:00 UTC, not 13:00
    (NEW_YORK, local(NEW_YORK, 2026, 3, 7, 22, 0), "21:00-08:00", dt.datetime(2026, 3, 8, 12, 0, tzinfo=dt.UTC)),
    (NEW_YORK, local(NEW_YORK, 2026, 3, 8, 3, 30), "21:00-08:00", dt.datetime(2026, 3, 8, 12, 0, tzinfo=dt.UTC)),
    # the end 02:30 does not exist that night: the first valid instant after the gap is 03:00 EDT = 07:00 UTC
    (NEW_YORK, local(NEW_YORK, 2026, 3, 8, 1, 59), "22:00-02:30", dt.datetime(2026, 3, 8, 7, 0, tzinfo=dt.UTC)),
    (NEW_YORK, local(NEW_YORK, 2026, 3, 7, 23, 0), "22:00-02:00", dt.datetime(2026, 3, 8, 7, 0, tzinfo=dt.UTC)),
    # a window starting in the gap: 03:00 EDT is past 02:30, so quiet until 06:00 EDT = 10:00 UTC
    (NEW_YORK, local(NEW_YORK, 2026, 3, 8, 3, 0), "02:30-06:00", dt.datetime(2026, 3, 8, 10, 0, tzinfo=dt.UTC)),
    (NEW_YORK, local(NEW_YORK, 2026, 3, 8, 1, 59), "02:30-06:00", None),
    # overnight window across fall back: 08:00 EST is 13:00 UTC
    (NEW_YORK, local(NEW_YORK, 2026, 10, 31, 21, 0), "21:00-08:00", dt.datetime(2026, 11, 1, 13, 0, tzinfo=dt.UTC)),
    # the end 01:30 happens twice: the first occurrence (EDT, 05:30 UTC) ...
    (NEW_YORK, local(NEW_YORK, 2026, 10, 31, 23, 0), "22:00-01:30", dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC)),
    (NEW_YORK, local(NEW_YORK, 2026, 11, 1, 1, 15), "22:00-01:30", dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC)),
    (NEW_YORK, local(NEW_YORK, 2026, 11, 1, 1, 45), "22:00-01:30", None),
    # ... and in the second pass through the repeated hour (EST) wall-clock 01:15 is quiet again, until 01:30 EST
    (NEW_YORK, local(NEW_YORK, 2026, 11, 1, 1, 15, fold=1), "22:00-01:30",
     dt.datetime(2026, 11, 1, 6, 30, tzinfo=dt.UTC)),
    (NEW_YORK, local(NEW_YORK, 2026, 11, 1, 1, 45, fold=1), "22:00-01:30", None),
    # London, spring forward: 08:00 BST = 07:00 UTC; an end at 01:30 (in the gap) -> 02:00 BST = 01:00 UTC
    (LONDON, local(LONDON, 2026, 3, 28, 23, 0), "21:00-08:00", dt.datetime(2026, 3, 29, 7, 0, tzinfo=dt.UTC)),
    (LONDON, local(LONDON, 2026, 3, 29, 0, 30), "00:00-01:30", dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC)),
    # London, fall back: 08:00 GMT = 08:00 UTC; an ambiguous end 01:30 -> first occurrence, BST = 00:30 UTC
    (LONDON, local(LONDON, 2026, 10, 24, 21, 0), "21:00-08:00", dt.datetime(2026, 10, 25, 8, 0, tzinfo=dt.UTC)),
    (LONDON, local(LONDON, 2026, 10, 25, 0, 10), "22:00-01:30", dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)),
    (LONDON, local(LONDON, 2026, 10, 25, 1, 10, fold=1), "22:00-01:30",
     dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)),
])
def test_dst_change_days(tz: ZoneInfo, now: dt.datetime, window: str, expected: dt.datetime | None) -> None:
    assert quiet_until(utc(now), QuietHours.parse(window), tz) == expected


def _quiet_by_wall_clock(instant: dt.datetime, window: QuietHours, tz: ZoneInfo) -> bool:
    wall = instant.astimezone(tz).time()
    if window.crosses_midnight:
        return wall >= window.start or wall < window.end
    return window.start <= wall < window.end


@pytest.mark.parametrize("tz, day", [(NEW_YORK, dt.date(2026, 3, 7)), (NEW_YORK, dt.date(2026, 10, 31)),
                                     (LONDON, dt.date(2026, 3, 28)), (LONDON, dt.date(2026, 10, 24))], ids=str)
@pytest.mark.parametrize("window", ["21:00-08:00", "22:00-01:30", "00:30-02:30", "01:00-02:00", "13:00-15:00"])
def test_sweep_over_dst_days_every_answer_is_consistent(tz: ZoneInfo, day: dt.date, window: str) -> None:
    hours = QuietHours.parse(window)
    start = dt.datetime.combine(day, dt.time(12), tzinfo=tz).astimezone(dt.UTC)
    quiet_seen = 0
    for step in range(0, 48 * 60, 7):  # every 7 minutes over two days
        now = start + dt.timedelta(minutes=step)
        until = quiet_until(now, hours, tz)
        assert (until is not None) == _quiet_by_wall_clock(now, hours, tz), now
        if until is None:
            continue
        quiet_seen += 1
        assert until > now and until - now <= dt.timedelta(hours=24)
        assert quiet_until(until, hours, tz) is None, (now, until)  # the window is over at `until`
        assert quiet_until(until - dt.timedelta(seconds=1), hours, tz) is not None, (now, until)  # not a moment before
        probe = now
        while probe < until:  # quiet all the way
            assert quiet_until(probe, hours, tz) is not None, (now, probe, until)
            probe += dt.timedelta(minutes=5)
    assert quiet_seen > 0


# -- the decision ------------------------------------------------------------------------------------------


def test_a_contact_in_tokyo_while_the_team_is_in_sao_paulo() -> None:
    tokyo_night = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)  # 21:00 in Tokyo, 09:00 in São Paulo
    assert quiet_hours_decision(tokyo_night, NIGHT, SAO_PAULO, TOKYO, True, None, None) == Deferred(
        dt.datetime(2026, 5, 1, 23, 0, tzinfo=dt.UTC), QUIET_HOURS)  # 08:00 on 2 May in Tokyo
    assert quiet_hours_decision(tokyo_night, NIGHT, SAO_PAULO, None, True, None, None) == Allowed()
    sao_paulo_night = dt.datetime(2026, 5, 2, 0, 30, tzinfo=dt.UTC)  # 21:30 in São Paulo, 09:30 in Tokyo
    assert quiet_hours_decision(sao_paulo_night, NIGHT, SAO_PAULO, TOKYO, True, None, None) == Allowed()
    assert quiet_hours_decision(sao_paulo_night, NIGHT, SAO_PAULO, None, True, None, None) == Deferred(
        dt.datetime(2026, 5, 2, 11, 0, tzinfo=dt.UTC), QUIET_HOURS)  # 08:00 on 2 May in São Paulo


NOW = dt.datetime(2026, 6, 2, 2, 0, tzinfo=dt.UTC)  # 23:00 on 1 June in São Paulo: quiet
UNTIL = dt.datetime(2026, 6, 2, 11, 0, tzinfo=dt.UTC)
GRACE = dt.timedelta(minutes=30)


@pytest.mark.parametrize("business_initiated, inbound_ago, grace, expected", [
    (False, dt.timedelta(minutes=29, seconds=59), GRACE, Allowed()),  # a reply to a fresh message goes now
    (False, dt.timedelta(0), GRACE, Allowed()),
    (False, dt.timedelta(minutes=30), GRACE, Deferred(UNTIL, QUIET_HOURS)),  # grace is now - inbound < grace
    (False, dt.timedelta(hours=3), GRACE, Deferred(UNTIL, QUIET_HOURS)),
    (False, None, GRACE, Deferred(UNTIL, QUIET_HOURS)),
    (False, dt.timedelta(minutes=1), None, Deferred(UNTIL, QUIET_HOURS)),  # no grace configured
    (True, dt.timedelta(minutes=1), GRACE, Deferred(UNTIL, QUIET_HOURS)),  # campaigns never get grace
])
def test_reply_grace(business_initiated: bool, inbound_ago: dt.timedelta | None, grace: dt.timedelta | None,
                     expected: object) -> None:
    last_inbound = None if inbound_ago is None else NOW - inbound_ago
    decision = quiet_hours_decision(NOW, NIGHT, SAO_PAULO, None, business_initiated, last_inbound, grace)
    assert decision == expected


def test_outside_quiet_hours_or_without_a_window_everything_goes() -> None:
    day = dt.datetime(2026, 6, 1, 15, 0, tzinfo=dt.UTC)  # 12:00 in São Paulo
    assert quiet_hours_decision(day, NIGHT, SAO_PAULO, None, True, None, None) == Allowed()
    assert quiet_hours_decision(NOW, None, SAO_PAULO, None, True, None, None) == Allowed()
