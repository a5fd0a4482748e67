"""The audit log: append-only, hash-chained entries per team (who did what to what, and when).

Each entry's `hash` is SHA-256 over a canonical encoding of the entry (team, seq, time, actor, action, subject,
details) and the previous entry's hash, so changing, removing or reordering any entry breaks every hash after
it. `verify_chain` recomputes them and names the first entry that does not match. Details never hold secrets.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from .errors import InvalidInput

GENESIS = "0" * 64  # the prev_hash of a team's first entry

# actions (the lead and other modules add theirs; names are `area.verb` in the past tense or noun form)
CONSENT_SET = "consent.set"  # a member set a contact's consent through the API
CONSENT_KEYWORD = "consent.keyword"  # a contact wrote STOP / START (or a configured keyword)
CONSENT_PROVIDER = "consent.provider_opt_out"  # the provider refused a send because the contact opted out
CONSENT_KEYWORDS_CHANGED = "consent.keywords_changed"  # the team's keyword configuration changed
SEND_BLOCKED = "send.blocked"
ACCOUNT_CONNECTED = "account.connected"
ACCOUNT_REMOVED = "account.removed"
ACCOUNT_CREDENTIALS_ROTATED = "account.credentials_rotated"
TEMPLATE_SUBMITTED = "template.submitted"
TEMPLATE_APPROVED = "template.approved"
TEMPLATE_REJECTED = "template.rejected"  # also template.paused, template.disabled, template.pending

# actors that are not a member
SYSTEM = "system"
PROVIDER = "provider"
KEYWORD = "keyword"


def template_verdict(status: str) -> str:
    """The action of the provider moving a template to `status` (approved, rejected, paused, ...)."""
    return f"template.{status}"


def user_actor(user_id: str) -> str:
    return f"user:{user_id}"


@attrs.frozen
class AuditEvent:
    """What a caller appends; the log gives it its sequence number and hashes."""

    actor: str
    action: str
    subject: str
    at: dt.datetime
    details: Mapping[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        for name in ("actor", "action", "subject"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value or len(value) > 200:
                raise ValueError(f"audit {name} must be 1 to 200 characters")
        if self.at.tzinfo is None:
            raise ValueError("audit time must be timezone-aware")
        canonical(dict(self.details))  # JSON-encodable, or fail at the caller


@attrs.frozen
class AuditEntry:
    team_id: str
    seq: int
    at: dt.datetime
    actor: str
    action: str
    subject: str
    details: Mapping[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def chain(cls, team_id: str, event: AuditEvent, previous: AuditEntry | None) -> AuditEntry:
        """The entry that follows `previous` (None: the team's first)."""
        seq, prev = (previous.seq + 1, previous.hash) if previous else (1, GENESIS)
        details = json.loads(canonical(dict(event.details)))  # stored exactly as hashed
        at = stamp(event.at)
        return cls(team_id, seq, at, event.actor, event.action, event.subject, details, prev,
                   entry_hash(team_id, seq, at, event.actor, event.action, event.subject, details, prev))

    def expected_hash(self) -> str:
        return entry_hash(self.team_id, self.seq, self.at, self.actor, self.action, self.subject, self.details,
                          self.prev_hash)


def stamp(at: dt.datetime) -> dt.datetime:
    """UTC, to the microsecond (what PostgreSQL keeps), so the hashed time is the stored one."""
    return at.astimezone(dt.UTC)


def canonical(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept: the same data always encodes to the same text."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"audit details must be plain JSON: {exc}") from None


def entry_hash(team_id: str, seq: int, at: dt.datetime, actor: str, action: str, subject: str,
               details: Mapping[str, Any], prev_hash: str) -> str:
    encoded = canonical([team_id, seq, stamp(at).isoformat(timespec="microseconds"), actor, action, subject,
                         dict(details), prev_hash])
    return hashlib.sha256(encoded.encode()).hexdigest()


@attrs.frozen
class Verification:
    """`ok` when every entry's hash and link match; otherwise `broken_seq` names the first entry that does not
    (its content was changed, or an entry before it was removed or changed)."""

    ok: bool
    checked: int
    head_seq: int | None = None
    head_hash: str | None = None
    broken_seq: int | None = None
    reason: str | None = None


class ChainVerifier:
    """Feeds entries in seq order (in as many batches as wanted) and tells where the chain first breaks."""

    def __init__(self) -> None:
        self.checked = 0
        self._last: AuditEntry | None = None
        self._broken: tuple[int, str] | None = None

    @property
    def broken(self) -> bool:
        return self._broken is not None

    def feed(self, entries: Iterable[AuditEntry]) -> None:
        for entry in entries:
            if self._broken is not None:
                return
            self.checked += 1
            expected_seq = self._last.seq + 1 if self._last else 1
            expected_prev = self._last.hash if self._last else GENESIS
            if entry.seq != expected_seq:
                self._broken = (entry.seq, f"expected entry {expected_seq}: an entry is missing")
            elif entry.prev_hash != expected_prev:
                self._broken = (entry.seq, "its previous hash does not match the entry before it")
            elif entry.hash != entry.expected_hash():
                self._broken = (entry.seq, "its content does not match its hash")
            self._last = entry

    def result(self) -> Verification:
        last = self._last
        if self._broken is not None:
            return Verification(False, self.checked, broken_seq=self._broken[0], reason=self._broken[1])
        return Verification(True, self.checked, last.seq if last else None, last.hash if last else None)


def verify_chain(entries: Iterable[AuditEntry]) -> Verification:
    verifier = ChainVerifier()
    verifier.feed(entries)
    return verifier.result()


def audit_cursor(text: str | None) -> int | None:
    """A page cursor of the audit log: the seq to continue below."""
    if text is None:
        return None
    if not text.isdigit() or len(text) > 18:
        raise InvalidInput.single("cursor", "is not a cursor this API returned")
    return int(text)
