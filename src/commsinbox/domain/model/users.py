"""Users of the product and the tokens that authenticate them."""
from __future__ import annotations

import datetime as dt
import enum

import attrs

from .ids import TokenId, UserId


@attrs.define
class User:
    id: UserId
    email: str
    created_at: dt.datetime
    full_name: str | None = None
    password_hash: str | None = attrs.field(default=None, repr=False)  # None: invited, cannot log in yet


class TokenKind(enum.StrEnum):
    SESSION = "session"
    API = "api"


@attrs.frozen
class AuthToken:
    """An opaque bearer credential. Only its SHA-256 is stored; the token itself is shown once."""

    id: TokenId
    user_id: UserId
    kind: TokenKind
    token_hash: str = attrs.field(repr=False)
    created_at: dt.datetime
    name: str | None = None
    expires_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None

    def is_valid(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)
