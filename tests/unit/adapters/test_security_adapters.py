from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from commsinbox.adapters.crypto.jwt_verifier import SupabaseJwtVerifier
from commsinbox.adapters.crypto.passwords import ScryptPasswordHasher
from commsinbox.adapters.storage.local import LocalBlobStorage
from commsinbox.domain.model.errors import NotFound

pytestmark = pytest.mark.unit
SECRET = "super-secret-jwt-token-with-at-least-32-characters-and-in-fact-64-long!!"


def test_scrypt_hashes_verify_and_differ() -> None:
    hasher = ScryptPasswordHasher(n=2**10)
    first, second = hasher.hash("a long password"), hasher.hash("a long password")
    assert first != second and first.startswith("scrypt$1024$8$1$")
    assert hasher.verify("a long password", first)
    assert not hasher.verify("a long passworD", first)
    assert not hasher.verify("a long password", "bcrypt$whatever")
    assert "a long password" not in first


def claims(**extra: object) -> dict[str, object]:
    return {"sub": "b2f1", "aud": "authenticated", "exp": int(time.time()) + 60, "email": "Ana@Example.com", **extra}


def test_supabase_jwt_gives_the_email_only_when_valid() -> None:
    verifier = SupabaseJwtVerifier(SECRET)
    assert verifier.verify(jwt.encode(claims(), SECRET, algorithm="HS256")) == "ana@example.com"
    assert verifier.verify(jwt.encode(claims(), "another-secret-of-at-least-32-characters-and-also-64-bytes-long!!", algorithm="HS256")) is None
    assert verifier.verify(jwt.encode(claims(exp=int(time.time()) - 5), SECRET, algorithm="HS256")) is None
    assert verifier.verify(jwt.encode(claims(aud="anon"), SECRET, algorithm="HS256")) is None
    assert verifier.verify(jwt.encode(claims(), SECRET, algorithm="HS512")) is None
    assert verifier.verify("ci_opaque-token") is None
    assert SECRET not in repr(verifier)


async def test_local_storage_writes_atomically_and_stays_in_its_root(tmp_path: Path) -> None:
    storage = LocalBlobStorage(tmp_path / "vault")
    await storage.put("team/inbox/a.txt", b"hello", "text/plain")
    assert await storage.get("team/inbox/a.txt") == b"hello"
    assert [p.name for p in (tmp_path / "vault" / "team" / "inbox").iterdir()] == ["a.txt"]
    with pytest.raises(ValueError):
        await storage.put("../outside.txt", b"x", "text/plain")
    await storage.delete("team/inbox/a.txt")
    with pytest.raises(NotFound):
        await storage.get("team/inbox/a.txt")
