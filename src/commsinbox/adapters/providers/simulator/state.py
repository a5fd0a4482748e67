"""Everything the provider simulator knows: accounts, media, issued messages, recorded requests and faults.

Plain mutable attrs objects, one event loop, no locks needed. Ids come from a counter plus a random suffix, so they
are unique, ordered and shaped like the real ones (`SM` + 32 hex, `wamid.…`, numeric Graph ids).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from typing import Any

import attrs

from ...clock import SystemClock
from ....ports.clock import Clock

__all__ = ["Fault", "IssuedMessage", "MetaAccount", "RecordedRequest", "SimulatorState", "StoredMedia",
           "TwilioAccount"]

TWILIO = "whatsapp-twilio"
WHATSAPP = "whatsapp-meta"
INSTAGRAM = "instagram-meta"


@attrs.define
class TwilioAccount:
    sid: str
    token: str = attrs.field(repr=False)
    senders: set[str] = attrs.field(factory=set)  # E.164, without `whatsapp:`
    opted_out: set[str] = attrs.field(factory=set)  # recipients that replied STOP: sends → 400 / 21610


@attrs.define
class MetaAccount:
    provider: str  # WHATSAPP (a phone_number_id) or INSTAGRAM (an IG account id)
    id: str
    token: str = attrs.field(repr=False)
    app_secret: str = attrs.field(repr=False)
    waba_id: str | None = None
    display_phone_number: str | None = None
    username: str | None = None


@attrs.define
class StoredMedia:
    id: str  # the Graph media id; also the Instagram CDN asset id
    data: bytes = attrs.field(repr=lambda data: f"<{len(data)} bytes>")
    content_type: str
    twilio_sid: str  # ME…
    cdn_key: str  # the "pre-signed" part of CDN URLs
    announced_sha256: str | None = None  # hex; set to make the provider lie about the checksum
    chunked: bool = False  # serve without Content-Length (chunked transfer encoding)

    @property
    def sha256_hex(self) -> str:
        return self.announced_sha256 or hashlib.sha256(self.data).hexdigest()

    @property
    def sha256_base64(self) -> str:
        return base64.b64encode(bytes.fromhex(self.sha256_hex)).decode("ascii")


@attrs.define
class IssuedMessage:
    id: str
    provider: str
    account_id: str  # Twilio AccountSid, phone_number_id or IG account id
    sender: str  # Twilio: the From (E.164); Meta: the account id
    recipient: str  # E.164 (Twilio), wa_id digits (WhatsApp) or IGSID (Instagram)
    status_callback: str | None = None


@attrs.define
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: dt.datetime
    form: list[tuple[str, str]] | None = None
    json: Any = None
    body_size: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "query": self.query, "headers": self.headers,
                "at": self.at.isoformat(), "form": [list(pair) for pair in self.form] if self.form is not None
                else None, "json": self.json, "bodySize": self.body_size}


@attrs.define
class Fault:
    path_prefix: str
    status: int
    remaining: int
    body: Any = None  # None: a provider-shaped error for the status
    delay: float = 0.0  # seconds to wait before answering (timeouts)


@attrs.define
class SimulatorState:
    target: str = "http://127.0.0.1:8080"  # the commsinbox server's public base URL (PUBLIC_BASE_URL)
    clock: Clock = attrs.field(factory=SystemClock)
    twilio: dict[str, TwilioAccount] = attrs.field(factory=dict)
    meta: dict[str, MetaAccount] = attrs.field(factory=dict)
    media: dict[str, StoredMedia] = attrs.field(factory=dict)
    messages: dict[str, IssuedMessage] = attrs.field(factory=dict)
    templates: list[dict[str, Any]] = attrs.field(factory=list)
    requests: list[RecordedRequest] = attrs.field(factory=list)
    faults: list[Fault] = attrs.field(factory=list)
    counter: int = 0

    # ids ------------------------------------------------------------------------------------------------------
    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def sid(self, prefix: str) -> str:
        """`prefix` + 32 hex digits: 8 from the counter, 24 random."""
        return f"{prefix}{self._next():08x}{secrets.token_hex(12)}"

    def numeric_id(self) -> str:
        """A Graph-style numeric id (16 digits)."""
        return f"{1_000_000 + self._next()}{secrets.randbelow(10**9):09d}"

    def wamid(self) -> str:
        raw = f"{self._next():08d}{secrets.token_hex(10).upper()}".encode("ascii")
        return "wamid." + base64.b64encode(b"HBgL" + raw).decode("ascii")

    def ig_mid(self) -> str:
        raw = f"ig_item:{self._next():08d}:{secrets.token_hex(12)}".encode("ascii")
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    # look-ups -------------------------------------------------------------------------------------------------
    def meta_by_token(self, token: str | None) -> list[MetaAccount]:
        if not token:
            return []
        return [account for account in self.meta.values()
                if secrets.compare_digest(account.token.encode(), token.encode())]

    def twilio_for(self, sender: str | None = None, sid: str | None = None) -> TwilioAccount | None:
        if sid:
            return self.twilio.get(sid)
        found = [account for account in self.twilio.values() if sender and sender in account.senders]
        if not found and len(self.twilio) == 1:
            found = list(self.twilio.values())
        return found[0] if found else None

    def take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.remaining > 0 and path.startswith(fault.path_prefix):
                fault.remaining -= 1
                return fault
        return None

    def reset(self, *, keep_accounts: bool = False) -> None:
        if not keep_accounts:
            self.twilio.clear()
            self.meta.clear()
        for collection in (self.media, self.messages):
            collection.clear()
        for items in (self.templates, self.requests, self.faults):
            items.clear()
