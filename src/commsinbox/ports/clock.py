"""Time and identity: the domain never reads the clock, uuid4 or random itself."""
from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, tz-aware UTC."""
        ...


class IdGenerator(Protocol):
    def new_id(self) -> str:
        """A new UUID string."""
        ...


class TokenGenerator(Protocol):
    def new_token(self) -> str:
        """A new unguessable opaque token (at least 256 bits of entropy)."""
        ...


class PhoneTimezones(Protocol):
    def zone_of(self, phone: str) -> str | None:
        """The IANA time zone of an E.164 number when its numbering plan places it in exactly one, else None."""
        ...
