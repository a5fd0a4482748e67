"""Everything the provider simulator knows: accounts, media, templates, issued messages, recorded requests, faults,
settings and the webhooks it delivered.

Plain mutable attrs objects, one event loop, no locks needed. Ids come from a counter plus a random suffix, so they
are unique, ordered and shaped like the real ones (`SM` + 32 hex, `wamid.…`, numeric Graph ids).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import time
from typing import Any

import attrs

from ...clock import SystemClock
from ....ports.clock import Clock

__all__ = ["Fault", "IssuedMessage", "MetaAccount", "RecordedRequest", "Settings", "SimulatorState", "StoredMedia",
           "Template", "TwilioAccount"]

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
    kind: str = "text"  # text, image, …, template
    callback_data: str | None = None  # WhatsApp biz_opaque_callback_data, echoed in status webhooks


@attrs.define
class Template:
    """A WhatsApp Cloud message template (of a WABA) or a Twilio Content Template (of an account)."""

    id: str  # the Graph template id, or the Content SID (HX…)
    provider: str
    owner: str  # the WABA id, or the AccountSid
    name: str  # the Meta template name; for Twilio the Content SID
    language: str
    category: str = "UTILITY"
    status: str = "APPROVED"  # Meta: APPROVED, PENDING, REJECTED, PAUSED, DISABLED, …
    variables: int = 0  # positional body parameters

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "provider": self.provider, "owner": self.owner, "name": self.name,
                "language": self.language, "category": self.category, "status": self.status,
                "variables": self.variables}


@attrs.define
class Settings:
    auto_status: bool = False  # after each accepted send, deliver its status webhooks by themselves
    auto_status_outcome: str = "read"  # sent, delivered, read, failed, undelivered
    auto_status_error_code: int | None = None  # with failed / undelivered
    auto_status_delay: float = 0.0  # seconds before each status webhook

    def as_json(self) -> dict[str, Any]:
        return {"autoStatus": self.auto_status, "autoStatusOutcome": self.auto_status_outcome,
                "autoStatusErrorCode": self.auto_status_error_code, "autoStatusDelaySeconds": self.auto_status_delay}


@attrs.define
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: dt.datetime  # the state's clock when it arrived
    form: list[tuple[str, str]] | None = None
    json: Any = None
    body_size: int = 0
    seq: int = 0  # 1, 2, … in order of arrival
    monotonic: float = attrs.field(factory=time.monotonic)  # seconds, for rates (independent of the clock)
    multipart: list[dict[str, Any]] | None = None  # parts: name, filename, contentType, size (file) or value

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "method": self.method, "path": self.path, "query": self.query,
                "headers": self.headers, "at": self.at.isoformat(), "monotonic": self.monotonic,
                "form": [list(pair) for pair in self.form] if self.form is not None else None, "json": self.json,
                "multipart": self.multipart, "bodySize": self.body_size}


@attrs.define
class Fault:
    path_prefix: str
    status: int | None  # None: the status the provider gives `code`, or (with `process`) the real answer's
    remaining: int
    body: Any = None  # None: a provider-shaped error for the status / code
    delay: float = 0.0  # seconds to wait before answering (timeouts)
    code: int | None = None  # the provider error code to answer with (131047, 21610, …)
    subcode: int | None = None  # Graph error_subcode (Instagram 2534022)
    message: str | None = None
    method: str | None = None  # only requests with this method
    disconnect: bool = False  # close the connection instead of answering (after reading the request)
    process: bool = False  # let the API handle the request first (the message is really sent)

    def matches(self, method: str, path: str) -> bool:
        return (self.remaining > 0 and path.startswith(self.path_prefix)
                and (self.method is None or self.method == method))


@attrs.define
class SimulatorState:
    target: str = "http://127.0.0.1:8080"  # the commsinbox server's public base URL (PUBLIC_BASE_URL)
    clock: Clock = attrs.field(factory=SystemClock)
    twilio: dict[str, TwilioAccount] = attrs.field(factory=dict)
    meta: dict[str, MetaAccount] = attrs.field(factory=dict)
    media: dict[str, StoredMedia] = attrs.field(factory=dict)
    messages: dict[str, IssuedMessage] = attrs.field(factory=dict)
    templates: list[Template] = attrs.field(factory=list)
    requests: list[RecordedRequest] = attrs.field(factory=list)
    faults: list[Fault] = attrs.field(factory=list)
    reads: list[dict[str, str]] = attrs.field(factory=list)  # WhatsApp read marks and Instagram mark_seen
    deliveries: list[dict[str, Any]] = attrs.field(factory=list)  # every webhook POSTed, with its outcome
    settings: Settings = attrs.field(factory=Settings)
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

    def take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, path):
                fault.remaining -= 1
                return fault
        return None

    def template(self, provider: str, owner: str | None, name: str, language: str | None = None) -> Template | None:
        return next((t for t in self.templates if t.provider == provider and t.owner == owner and t.name == name
                     and (language is None or t.language == language)), None)

    def reset(self, *, keep_accounts: bool = False) -> None:
        if not keep_accounts:
            self.twilio.clear()
            self.meta.clear()
        for collection in (self.media, self.messages):
            collection.clear()
        for items in (self.templates, self.requests, self.faults, self.reads, self.deliveries):
            items.clear()
        self.settings = Settings()
