"""Providers, channels and message kinds: the vocabulary shared by inbound and outbound messaging."""
from __future__ import annotations

import enum


class Provider(enum.StrEnum):
    WHATSAPP_TWILIO = "whatsapp-twilio"
    WHATSAPP_META = "whatsapp-meta"
    INSTAGRAM_META = "instagram-meta"
    WHATSAPP_BAILEYS = "whatsapp-baileys"

    @property
    def channel(self) -> Channel:
        return Channel.INSTAGRAM if self is Provider.INSTAGRAM_META else Channel.WHATSAPP


class Channel(enum.StrEnum):
    WHATSAPP = "whatsapp"
    INSTAGRAM = "instagram"


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"


class MessageType(enum.StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    STICKER = "sticker"
    DOCUMENT = "document"
    LOCATION = "location"
    CONTACTS = "contacts"
    REACTION = "reaction"
    INTERACTIVE = "interactive"  # a button or list reply, a template quick reply, an Instagram postback
    ORDER = "order"
    SHARE = "share"  # an Instagram post, reel or story shared into the conversation
    SYSTEM = "system"  # e.g. the customer changed number
    UNSUPPORTED = "unsupported"


MEDIA_TYPES = frozenset({MessageType.IMAGE, MessageType.VIDEO, MessageType.AUDIO, MessageType.STICKER,
                         MessageType.DOCUMENT})


class DeliveryStatus(enum.StrEnum):
    """Outbound lifecycle. Ranks only go up: queued < sent < delivered < read < played; failed is terminal."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    PLAYED = "played"
    FAILED = "failed"
    UNKNOWN = "unknown"  # the provider may have accepted it but we could not record that (never re-sent by itself)

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {DeliveryStatus.UNKNOWN: 0, DeliveryStatus.QUEUED: 1, DeliveryStatus.SENT: 2, DeliveryStatus.DELIVERED: 3,
         DeliveryStatus.READ: 4, DeliveryStatus.PLAYED: 5, DeliveryStatus.FAILED: 9}
