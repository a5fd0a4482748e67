"""Order: something a client bought; `number` is unique within the team."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from .ids import ClientId, OrderId, TeamId


@attrs.frozen
class Order:
    id: OrderId
    team_id: TeamId
    number: str
    created_at: dt.datetime
    client_id: ClientId | None = None
    amount: Decimal | None = None
    currency: str | None = None
