"""Password hashing and login throttling."""
from __future__ import annotations

from typing import Protocol


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password: str, encoded: str) -> bool: ...


class LoginThrottle(Protocol):
    """Counts failed logins per key in a fixed window; successful logins cost nothing."""

    async def blocked_for(self, key: str, limit: int) -> int:
        """0 if fewer than `limit` failures are counted under `key` in the window, else seconds to wait."""
        ...

    async def record_failure(self, key: str) -> None: ...

    async def reset(self, key: str) -> None: ...


class ExternalTokenVerifier(Protocol):
    """Verifies a token issued by another identity provider (e.g. Supabase) and returns the email it names."""

    def verify(self, token: str) -> str | None: ...
