"""AES-256-GCM SecretBox over a keyring of versioned keys (CREDENTIALS_ENCRYPTION_KEYS).

Sealed format: ``v1.<key_id>.<base64url(nonce)>.<base64url(ciphertext+tag)>`` (no padding).
"""
from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable, Sequence
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ...ports.crypto import SecretUnreadable

__all__ = ["AesGcmKeyring", "decode_key", "generate_key_line"]

_VERSION = "v1"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_KEY_BYTES = 32
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}", re.ASCII)  # same rule as CREDENTIALS_ENCRYPTION_KEYS


class _Revealable(Protocol):
    def reveal(self) -> str: ...


class _KeySettings(Protocol):
    @property
    def credentials_keys(self) -> Iterable[tuple[str, _Revealable]]: ...


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    if _b64encode(raw) != text:  # only the canonical spelling is accepted
        raise ValueError("non-canonical base64")
    return raw


def decode_key(text: str) -> bytes:
    """Standard or URL-safe base64, padding optional (what `config.decode_key` accepts).

    The length is checked by AesGcmKeyring. Kept here because adapters may not import entrypoints.
    """
    padded = (text + "=" * (-len(text) % 4)).encode("ascii", errors="replace")
    for altchars in (None, b"-_"):
        try:
            return base64.b64decode(padded, altchars=altchars, validate=True)
        except binascii.Error:
            continue
    raise ValueError("a key is not base64")


def generate_key_line(key_id: str) -> str:
    """A new ``<id>:<base64 of 32 random bytes>`` entry for CREDENTIALS_ENCRYPTION_KEYS."""
    if _KEY_ID.fullmatch(key_id) is None:
        raise ValueError("a key id is 1 to 32 letters, digits, _ or -")
    return f"{key_id}:{base64.b64encode(os.urandom(_KEY_BYTES)).decode('ascii')}"


class AesGcmKeyring:
    """SecretBox with AES-256-GCM; seals under the first (newest) key, opens under any key."""

    __slots__ = ("_ciphers", "_current")

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise ValueError("the keyring needs at least one key")
        ciphers: dict[str, AESGCM] = {}
        for position, (key_id, key) in enumerate(keys, start=1):
            if not isinstance(key_id, str) or _KEY_ID.fullmatch(key_id) is None:
                raise ValueError(f"key {position}: the id must be 1 to 32 letters, digits, _ or -")
            if key_id in ciphers:
                raise ValueError(f"key {position}: the id {key_id!r} repeats an earlier id")
            if not isinstance(key, bytes) or len(key) != _KEY_BYTES:
                raise ValueError(f"key {position} ({key_id!r}) is not {_KEY_BYTES} bytes")
            ciphers[key_id] = AESGCM(key)
        self._ciphers = ciphers
        self._current = keys[0][0]

    @classmethod
    def from_settings(cls, settings: _KeySettings) -> AesGcmKeyring:
        """Built from `Settings.credentials_keys` (id, Secret) pairs, newest first."""
        return cls([(key_id, decode_key(key.reveal())) for key_id, key in settings.credentials_keys])

    @property
    def current_key_id(self) -> str:
        return self._current

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    def seal(self, plaintext: bytes, *, associated_data: bytes) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ciphers[self._current].encrypt(nonce, plaintext, associated_data)
        return ".".join((_VERSION, self._current, _b64encode(nonce), _b64encode(sealed)))

    def open(self, sealed: str, *, associated_data: bytes) -> bytes:
        key_id, nonce, ciphertext = self._parse(sealed)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise SecretUnreadable(
                f"sealed under key {key_id!r}, which is not in CREDENTIALS_ENCRYPTION_KEYS"
            )
        try:
            return cipher.decrypt(nonce, ciphertext, associated_data)
        except InvalidTag:
            pass
        raise SecretUnreadable(
            f"a secret sealed under key {key_id!r} failed authentication "
            "(wrong key, altered data or different associated data)"
        )

    def needs_rotation(self, sealed: str) -> bool:
        return self._parse(sealed)[0] != self._current

    @staticmethod
    def _parse(sealed: str) -> tuple[str, bytes, bytes]:
        parts = sealed.split(".") if isinstance(sealed, str) else []
        if len(parts) == 4 and parts[0] == _VERSION and _KEY_ID.fullmatch(parts[1]):
            try:
                nonce, ciphertext = _b64decode(parts[2]), _b64decode(parts[3])
            except ValueError:
                pass
            else:
                if len(nonce) == _NONCE_BYTES and len(ciphertext) >= _TAG_BYTES:
                    return parts[1], nonce, ciphertext
        raise SecretUnreadable(f"not a sealed secret in the {_VERSION} format")

    def __repr__(self) -> str:
        return f"AesGcmKeyring(key_ids={self.key_ids!r})"

    def __reduce__(self) -> object:
        raise TypeError("AesGcmKeyring cannot be pickled")
