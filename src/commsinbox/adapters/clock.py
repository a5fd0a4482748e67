"""Clocks and identifier generators."""
from __future__ import annotations

import datetime as dt
import secrets
import uuid

import attrs


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


@attrs.define
class FixedClock:
    """A clock that only moves when told to (tests, simulations)."""

    current: dt.datetime = attrs.field(factory=lambda: dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC))

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, delta: dt.timedelta) -> None:
        self.current += delta


class UuidGenerator:
    def new_id(self) -> str:
        return str(uuid.uuid4())


class SecretsTokenGenerator:
    def new_token(self) -> str:
        return "ci_" + secrets.token_urlsafe(32)
