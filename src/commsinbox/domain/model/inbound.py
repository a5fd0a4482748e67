"""What a provider webhook says, normalised: every adapter parses its payload into these values.

They carry no team: the webhook names an account by its provider id (`account_key`), and ingestion finds
the team from the connected account."""
from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from .channels import DeliveryStatus, Direction, MessageType, Provider


@attrs.frozen
class ContactRef:
    """Who the business is talking to, as the provider names them."""

    external_id: str  # WhatsApp: the wa_id digits; Instagram: the Instagram-scoped id (IGSID)
    phone: str | None = None  # E.164 when the provider gives a number
    display_name: str | None = None


@attrs.frozen
class MediaRef:
    """Where to fetch a message's media: a provider media id (Meta) or a URL (Twilio, Instagram)."""

    kind: MessageType
    media_id: str | None = None
    url: str | None = None
    content_type: str | None = None
    sha256: str | None = None
    filename: str | None = None
    caption: str | None = None


@attrs.frozen
class InboundMessage:
    provider: Provider
    account_key: str  # routes to the connected account: phone_number_id, IG account id, or the Twilio sender
    provider_message_id: str
    contact: ContactRef
    type: MessageType
    sent_at: dt.datetime
    direction: Direction = Direction.IN  # OUT for echoes of messages the business sent from the app
    text: str | None = None
    media: tuple[MediaRef, ...] = ()
    meta: dict[str, Any] = attrs.field(factory=dict)  # reply/context, referral, location, reaction target …


@attrs.frozen
class StatusUpdate:
    """The provider's word on an outbound message."""

    provider: Provider
    account_key: str
    provider_message_id: str
    status: DeliveryStatus
    at: dt.datetime
    recipient: str | None = None
    error_code: str | None = None
    error_title: str | None = None


@attrs.frozen
class MessageDeleted:
    """The customer unsent (Instagram) or deleted (WhatsApp revoke) a message."""

    provider: Provider
    account_key: str
    provider_message_id: str
    at: dt.datetime


@attrs.frozen
class TemplateStatusChanged:
    provider: Provider
    account_key: str  # the WhatsApp Business Account id
    template_id: str
    name: str
    language: str
    status: str
    at: dt.datetime
    reason: str | None = None


InboundEvent = InboundMessage | StatusUpdate | MessageDeleted | TemplateStatusChanged
