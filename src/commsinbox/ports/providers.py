"""What the core asks of a messaging provider (one adapter per provider, chosen by the account's provider)."""
from __future__ import annotations

import datetime as dt
import enum
from typing import Any, Protocol

import attrs

from ..domain.model.channels import MessageType, Provider
from ..domain.model.errors import CommsInboxError
from ..domain.model.inbound import InboundEvent, MediaRef


class FailureReason(enum.StrEnum):
    """Why a provider refused, in the domain's words (the provider's own code stays in `ProviderError.code`).
    A `StrEnum`: compare with the plain strings if you like (`error.reason == "window_closed"`)."""

    WINDOW_CLOSED = "window_closed"  # outside the customer-service window: only a template may go (131047, 63016)
    OPTED_OUT = "opted_out"  # the recipient unsubscribed (Twilio 21610, Meta 131050)
    RATE_LIMITED = "rate_limited"  # throughput or pair limits (130429, 131056, 63018, 20429, HTTP 429)
    INVALID_RECIPIENT = "invalid_recipient"  # not a WhatsApp user, bad number, unknown Instagram user
    TEMPLATE_REJECTED = "template_rejected"  # missing, unapproved, paused, or wrong parameters
    MEDIA_REJECTED = "media_rejected"  # type, size or download of the media refused
    UNSUPPORTED = "unsupported"  # the provider cannot do this at all (e.g. templates on Instagram)
    CREDENTIALS_REJECTED = "credentials_rejected"  # the token or auth token is invalid or expired
    PERMISSION_DENIED = "permission_denied"  # valid credentials without the right to do this
    ACCOUNT_RESTRICTED = "account_restricted"  # the business account is blocked, locked or limited
    INVALID_REQUEST = "invalid_request"  # the provider says a parameter is missing or wrong
    NOT_CONFIGURED = "not_configured"  # the account's stored credentials lack something (e.g. wabaId)
    UNAVAILABLE = "unavailable"  # outage, overload or network failure


class ProviderError(CommsInboxError):
    """The provider refused or failed.

    * `transient`: may be retried as is (throttling, outages, a refused connection).
    * `code`: the provider's own code (`"131047"`, `"21610"`), `reason`: a `FailureReason` (or None: unclassified).
    * `ambiguous`: the request may have reached the provider but no answer was read (a read timeout, a connection
      reset after the request was written, an unreadable success answer). The message may have been delivered:
      never retry it automatically. An ambiguous error is never `transient`, so retry-on-transient code cannot
      send twice.
    """

    def __init__(self, message: str, *, transient: bool, code: str | None = None, reason: str | None = None,
                 ambiguous: bool = False) -> None:
        super().__init__(message)
        self.transient = transient and not ambiguous
        self.code = code
        self.reason = reason
        self.ambiguous = ambiguous


class CredentialsRejected(ProviderError):
    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message, transient=False, code=code, reason=FailureReason.CREDENTIALS_REJECTED)


class MediaTooLarge(ProviderError):
    def __init__(self, size: int | None, limit: int) -> None:
        super().__init__(f"media of {size if size is not None else 'unknown'} bytes exceeds the {limit}-byte limit",
                         transient=False, reason=FailureReason.MEDIA_REJECTED)
        self.size = size
        self.limit = limit


@attrs.frozen
class Media:
    data: bytes
    content_type: str


@attrs.frozen
class AccountAccess:
    """What an adapter needs to act for one account: its provider id and its (decrypted) credentials."""

    provider: Provider
    external_id: str
    credentials: dict[str, Any] = attrs.field(repr=False)


# Outbound ----------------------------------------------------------------------------------------------------------
@attrs.frozen
class OutgoingMedia:
    kind: MessageType  # IMAGE, VIDEO, AUDIO, DOCUMENT or STICKER
    content_type: str
    size: int
    url: str | None = None  # a link the provider fetches (Twilio MediaUrl; Meta / Instagram "link" / "url")
    data: bytes | None = attrs.field(default=None, repr=False)  # uploaded first (WhatsApp Cloud) when no url
    filename: str | None = None
    caption: str | None = None


@attrs.frozen
class OutgoingTemplate:
    name: str  # the Meta template name; for Twilio the Content SID (HX…)
    language: str  # e.g. "en_US" (Meta); Twilio's Content SID already names the language
    variables: tuple[str, ...] = ()  # positional body parameters {{1}}, {{2}}, …


@attrs.frozen
class Outgoing:
    to: str  # the contact's external id: E.164 (Twilio), wa_id digits or E.164 (WhatsApp Cloud), IGSID (Instagram)
    idempotency_key: str
    text: str | None = None  # with media: its caption where the provider allows one
    media: OutgoingMedia | None = None
    template: OutgoingTemplate | None = None
    human_agent_tag: bool = False  # Instagram: MESSAGE_TAG + HUMAN_AGENT (7-day window), else RESPONSE
    status_callback_url: str | None = None  # Twilio StatusCallback
    reply_to: str | None = None  # the provider message id answered (WhatsApp context, Instagram reply_to)


@attrs.frozen
class Sent:
    provider_message_id: str


class ProviderGateway(Protocol):
    provider: Provider

    async def verify(self, access: AccountAccess) -> None:
        """Checks the credentials against the provider; raises CredentialsRejected or ProviderError."""
        ...

    async def fetch_media(self, access: AccountAccess, media: MediaRef, max_bytes: int) -> Media:
        """Downloads a message's media (Meta: media id → URL → bytes, with the bearer token; Twilio: basic
        auth; Instagram: the attachment URL). Raises MediaTooLarge before reading more than `max_bytes`."""
        ...

    def check_media(self, media: OutgoingMedia) -> None:
        """Raises `InvalidInput` (field `attachmentIds`) when the provider refuses this kind, content type or
        size. No I/O."""
        ...

    async def send(self, access: AccountAccess, message: Outgoing) -> Sent:
        """Sends one message. Raises `InvalidInput` for a message this provider cannot carry (checked before any
        request), `ProviderError` (see `transient`, `reason`, `ambiguous`) when the provider refuses or fails."""
        ...

    async def mark_read(self, access: AccountAccess, provider_message_id: str, contact_external_id: str) -> None:
        """Tells the provider the contact's message was read (a no-op where the provider has no such API)."""
        ...

    async def submit_template(self, access: AccountAccess, name: str, language: str, category: str,
                              body: str) -> str:
        """Submits a message template for review and returns the provider's template id."""
        ...


class ProviderRegistry(Protocol):
    def gateway(self, provider: Provider) -> ProviderGateway: ...


class WebhookParser(Protocol):
    def parse(self, body: bytes, content_type: str, received_at: dt.datetime) -> list[InboundEvent]:
        """Every event in one stored webhook body; raises ValueError for a malformed body."""
        ...


class WebhookParsers(Protocol):
    def parser(self, provider: Provider) -> WebhookParser: ...
