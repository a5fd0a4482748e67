"""Team (a business, the unit of tenancy) and its memberships."""
from __future__ import annotations

import datetime as dt

import attrs

from .ids import TeamId, UserId
from .values import Permission, QuietHours, Role

PLANS = ("free", "starter", "pro")


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
    version: int = 1

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
