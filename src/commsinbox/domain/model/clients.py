"""Client: a customer of the team, the record conversations link to."""
from __future__ import annotations

import datetime as dt

import attrs

from .ids import ClientId, TeamId


@attrs.define
class Client:
    id: ClientId
    team_id: TeamId
    name: str
    created_at: dt.datetime
    phone: str | None = None  # E.164
    email: str | None = None
