"""Transaction: money in or out, optionally for a client."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from .ids import ClientId, TeamId, TransactionId


@attrs.frozen
class Transaction:
    id: TransactionId
    team_id: TeamId
    amount: Decimal
    currency: str
    created_at: dt.datetime
    client_id: ClientId | None = None
    description: str | None = None
