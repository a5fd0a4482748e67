"""Quiet hours: business-initiated messages wait for the end of the team's quiet window, never dropped.

The window is a daily `[start, end)` in local wall-clock time (with 21:00-08:00: 20:59 may send, 21:00 is quiet,
07:59 is quiet, 08:00 may send) and may cross midnight. It is evaluated in the contact's time zone when known,
else the team's. An instant is quiet when its local wall-clock time falls in the window, so on a fall-back night
both passes through an ambiguous hour count.

The end of the window is the local end time on the right local date, as an aware UTC instant:
- end time in a spring-forward gap (does not exist that day) → the first valid instant after the gap, i.e. the
  moment of the transition (02:30 on a 02:00→03:00 night → 03:00 new time);
- end time ambiguous (fall back) → its first occurrence (fold=0); only when that instant has already passed
  (we are in the second pass through the repeated hour) → its second occurrence (fold=1).

A reply (not business-initiated) within `reply_grace` of the contact's last inbound message is not deferred:
`now - last_inbound_at < reply_grace`. `reply_grace=None` means no grace: replies wait like everything else.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ..model.values import QuietHours
from .decision import QUIET_HOURS, Allowed, Decision, Deferred


def quiet_until(now: dt.datetime, window: QuietHours, tz: ZoneInfo) -> dt.datetime | None:
    """None when `now` is outside the window, else the aware UTC instant the window ends."""
    _require_aware(now, "now")
    local = now.astimezone(tz)
    wall, today = local.time(), local.date()
    if window.crosses_midnight:
        if wall >= window.start:
            end_date = today + dt.timedelta(days=1)
        elif wall < window.end:
            end_date = today
        else:
            return None
    elif window.start <= wall < window.end:
        end_date = today
    else:
        return None
    return _local_instant(dt.datetime.combine(end_date, window.end), tz, after=now)


def quiet_hours_decision(now: dt.datetime, window: QuietHours | None, team_tz: ZoneInfo, contact_tz: ZoneInfo | None,
                         business_initiated: bool, last_inbound_at: dt.datetime | None,
                         reply_grace: dt.timedelta | None) -> Decision:
    """Allowed outside the window (or without one), or for a reply within `reply_grace` of the contact's last
    inbound message; else Deferred(until the window ends, rule="quiet_hours")."""
    if window is None:
        return Allowed()
    until = quiet_until(now, window, contact_tz or team_tz)
    if until is None:
        return Allowed()
    if (not business_initiated and reply_grace is not None and last_inbound_at is not None
            and now - last_inbound_at < reply_grace):
        return Allowed()
    return Deferred(until, QUIET_HOURS)


def _local_instant(wall: dt.datetime, tz: ZoneInfo, after: dt.datetime) -> dt.datetime:
    """The UTC instant of the naive local `wall` time in `tz` (see the module docstring for gaps and folds)."""
    first = wall.replace(tzinfo=tz, fold=0).astimezone(dt.UTC)
    if first.astimezone(tz).replace(tzinfo=None) != wall:  # in a gap: the wall time does not exist that day
        return _transition(wall, tz)
    if first > after:
        return first
    return wall.replace(tzinfo=tz, fold=1).astimezone(dt.UTC)


def _transition(wall: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The instant the clock jumped over `wall`: the first instant whose offset is the post-gap one. zoneinfo reads
    a gap time with the offset before (fold=0) or after (fold=1) the jump; the jump lies between the two readings,
    found to the second by bisection (transitions fall on whole seconds)."""
    low = wall.replace(tzinfo=tz, fold=1).astimezone(dt.UTC)  # still before the jump
    high = wall.replace(tzinfo=tz, fold=0).astimezone(dt.UTC)  # already after it
    offset_after = high.astimezone(tz).utcoffset()
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) // 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(tz).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    return high


def _require_aware(value: dt.datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
