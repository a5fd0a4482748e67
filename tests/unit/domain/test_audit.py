"""The audit chain's encoding and verification, without storage."""
from __future__ import annotations

import datetime as dt
import hashlib
import json

import attrs
import pytest

from commsinbox.domain.model.audit import GENESIS, AuditEntry, AuditEvent, entry_hash, verify_chain

pytestmark = pytest.mark.unit
AT = dt.datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=-3)))


def chain(count: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for n in range(count):
        event = AuditEvent("system", "probe", f"s:{n}", AT + dt.timedelta(seconds=n), {"n": n})
        entries.append(AuditEntry.chain("team-1", event, entries[-1] if entries else None))
    return entries


def test_the_hash_is_sha256_of_the_documented_canonical_encoding() -> None:
    """docs/audit.md: sorted keys, no spaces, UTF-8 kept, time in UTC with microseconds."""
    expected = json.dumps(["team-1", 1, "2026-11-25T15:00:00.123456+00:00", "user:u", "consent.set", "contact:c",
                           {"a": "ç", "b": 1}, GENESIS], separators=(",", ":"), ensure_ascii=False)
    assert entry_hash("team-1", 1, AT, "user:u", "consent.set", "contact:c", {"b": 1, "a": "ç"}, GENESIS) == \
        hashlib.sha256(expected.encode()).hexdigest()


def test_reordered_or_relinked_entries_are_found() -> None:
    first, second, third = chain(3)
    assert verify_chain([first, second, third]).ok
    assert verify_chain([first, third, second]).broken_seq == 3
    forged = attrs.evolve(second, prev_hash="f" * 64)
    forged = attrs.evolve(forged, hash=forged.expected_hash())  # re-hashed, but no longer linked
    result = verify_chain([first, forged, third])
    assert (result.broken_seq, result.reason) == (2, "its previous hash does not match the entry before it")
    assert verify_chain([]).ok and verify_chain([]).checked == 0
