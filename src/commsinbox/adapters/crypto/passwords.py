"""scrypt password hashes (RFC 7914) in a self-describing string: scrypt$n$r$p$salt$hash."""
from __future__ import annotations

import base64
import os

import attrs
from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@attrs.define
class ScryptPasswordHasher:
    """Defaults follow OWASP's scrypt guidance (N=2^15, r=8, p=1); tests may lower `n` for speed."""

    n: int = 2**15
    r: int = 8
    p: int = 1

    def hash(self, password: str) -> str:
        salt = os.urandom(16)
        key = Scrypt(salt=salt, length=32, n=self.n, r=self.r, p=self.p).derive(password.encode())
        return f"scrypt${self.n}${self.r}${self.p}${_b64(salt)}${_b64(key)}"

    def verify(self, password: str, encoded: str) -> bool:
        try:
            scheme, n, r, p, salt, key = encoded.split("$")
            if scheme != "scrypt":
                return False
            kdf = Scrypt(salt=base64.b64decode(salt), length=32, n=int(n), r=int(r), p=int(p))
            kdf.verify(password.encode(), base64.b64decode(key))
        except (ValueError, InvalidKey):
            return False
        return True
