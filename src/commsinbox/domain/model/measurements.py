"""Measurement: a value recorded for a client (a size, a weight, a reading)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from .ids import ClientId, MeasurementId, TeamId


@attrs.frozen
class Measurement:
    id: MeasurementId
    team_id: TeamId
    client_id: ClientId
    name: str
    value: Decimal
    created_at: dt.datetime
    unit: str | None = None
