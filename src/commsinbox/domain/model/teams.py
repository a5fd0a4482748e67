"""Team (a business, the unit of tenancy) and its memberships."""
from __future__ import annotations

import datetime as dt

import attrs

from .ids import TeamId, UserId
from .values import Permission, QuietHours, Role

PLANS = ("free", "starter", "pro")
DEFAULT_REPLY_GRACE_MINUTES = 30  # an agent answering a customer who wrote this recently is not deferred
MAX_REPLY_GRACE_MINUTES = 24 * 60


@attrs.define
class Team:
    id: TeamId
    name: str
    base_currency: str
    timezone: str
    plan: str
    created_at: dt.datetime
    quiet_hours: QuietHours | None = None  # None: the deployment default (QUIET_HOURS_DEFAULT)
    agents_see_unassigned: bool = True  # members without inbox.read_all see unassigned threads too
    reply_grace_minutes: int | None = None  # None: DEFAULT_REPLY_GRACE_MINUTES; 0: replies wait out quiet hours too
    version: int = 1

    @property
    def reply_grace(self) -> dt.timedelta | None:
        """How long after a customer's message an agent's reply goes out even in quiet hours (None: no grace)."""
        minutes = DEFAULT_REPLY_GRACE_MINUTES if self.reply_grace_minutes is None else self.reply_grace_minutes
        return dt.timedelta(minutes=minutes) if minutes else None

    @classmethod
    def create(cls, id: TeamId, name: str, now: dt.datetime, *, base_currency: str = "USD",
               timezone: str = "UTC") -> Team:
        return cls(id=id, name=name, base_currency=base_currency, timezone=timezone, plan="free",
                   created_at=now)


@attrs.frozen
class Membership:
    team_id: TeamId
    user_id: UserId
    role: Role
    created_at: dt.datetime
    permissions: frozenset[Permission] = frozenset()  # only meaningful for Role.CUSTOM
