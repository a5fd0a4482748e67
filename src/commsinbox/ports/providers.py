"""What the core asks of a messaging provider (one adapter per provider, chosen by the account's provider)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

import attrs

from ..domain.model.channels import Provider
from ..domain.model.errors import CommsInboxError
from ..domain.model.inbound import InboundEvent, MediaRef


class ProviderError(CommsInboxError):
    """The provider refused or failed. `transient` errors may be retried; `code` is the provider's own."""

    def __init__(self, message: str, *, transient: bool, code: str | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.code = code


class CredentialsRejected(ProviderError):
    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message, transient=False, code=code)


class MediaTooLarge(ProviderError):
    def __init__(self, size: int | None, limit: int) -> None:
        super().__init__(f"media of {size if size is not None else 'unknown'} bytes exceeds the {limit}-byte limit",
                         transient=False)
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


class ProviderGateway(Protocol):
    provider: Provider

    async def verify(self, access: AccountAccess) -> None:
        """Checks the credentials against the provider; raises CredentialsRejected or ProviderError."""
        ...

    async def fetch_media(self, access: AccountAccess, media: MediaRef, max_bytes: int) -> Media:
        """Downloads a message's media (Meta: media id → URL → bytes, with the bearer token; Twilio: basic
        auth; Instagram: the attachment URL). Raises MediaTooLarge before reading more than `max_bytes`."""
        ...


class ProviderRegistry(Protocol):
    def gateway(self, provider: Provider) -> ProviderGateway: ...


class WebhookParser(Protocol):
    def parse(self, body: bytes, content_type: str, received_at: dt.datetime) -> list[InboundEvent]:
        """Every event in one stored webhook body; raises ValueError for a malformed body."""
        ...


class WebhookParsers(Protocol):
    def parser(self, provider: Provider) -> WebhookParser: ...
