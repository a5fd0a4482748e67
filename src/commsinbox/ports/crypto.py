"""Sealing small secrets (provider credentials) for storage at rest."""
from __future__ import annotations

from typing import Protocol

from ..domain.model.errors import CommsInboxError


class SecretUnreadable(CommsInboxError):
    """A sealed secret cannot be opened. The message never contains key material or plaintext."""


class SecretBox(Protocol):
    """Authenticated encryption under a keyring of versioned keys, newest first.

    `associated_data` is not stored but must be identical when opening; it binds the sealed
    value to its place, e.g. ``b"team:<id>|account:<id>|purpose:credentials"``.
    """

    @property
    def current_key_id(self) -> str:
        """The id of the key new seals are made with."""
        ...

    def seal(self, plaintext: bytes, *, associated_data: bytes) -> str:
        """A self-describing ASCII string; sealing the same input twice gives different strings."""
        ...

    def open(self, sealed: str, *, associated_data: bytes) -> bytes:
        """The plaintext, or SecretUnreadable (unknown key, wrong key, tampering, wrong associated data)."""
        ...

    def needs_rotation(self, sealed: str) -> bool:
        """True when `sealed` was made under a key other than the current one."""
        ...
