"""Keyset pagination: newest first by (created_at, id)."""
from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Generic, TypeVar

import attrs

from .errors import InvalidInput

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@attrs.frozen
class Cursor:
    created_at: dt.datetime
    id: str

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"{self.created_at.isoformat()}|{self.id}".encode()).decode()

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            stamp, _, key = base64.urlsafe_b64decode(text.encode()).decode().partition("|")
            created_at = dt.datetime.fromisoformat(stamp)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise InvalidInput.single("cursor", "is not a cursor this API returned") from None
        if not key or created_at.tzinfo is None:
            raise InvalidInput.single("cursor", "is not a cursor this API returned")
        return cls(created_at, key)


@attrs.frozen
class PageRequest:
    after: Cursor | None = None
    limit: int = DEFAULT_LIMIT

    @classmethod
    def of(cls, cursor: str | None, limit: int | None) -> PageRequest:
        size = DEFAULT_LIMIT if limit is None else limit
        if not 1 <= size <= MAX_LIMIT:
            raise InvalidInput.single("limit", f"must be between 1 and {MAX_LIMIT}")
        return cls(Cursor.decode(cursor) if cursor else None, size)


@attrs.frozen
class Page(Generic[T]):
    items: tuple[T, ...]
    next_cursor: str | None = None
