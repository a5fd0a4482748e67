"""Twilio WhatsApp webhooks (providers.md §1.2 inbound messages, §1.3 status callbacks) as domain events.

Pure functions over the form parameters; verify the signature (`signature.is_valid`) before trusting them.
Unknown parameters are ignored here, but they are part of the signature.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from urllib.parse import parse_qsl

import phonenumbers

from commsinbox.domain.model.channels import DeliveryStatus, MessageType, Provider
from commsinbox.domain.model.inbound import ContactRef, InboundEvent, InboundMessage, MediaRef, StatusUpdate

from .signature import Params, pairs

PROVIDER = Provider.WHATSAPP_TWILIO
MAX_FIELDS = 1000  # a real webhook has a few dozen; parse_qsl refuses more
_PREFIX = "whatsapp:"
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_INBOUND_STATUSES = frozenset({"receiving", "received"})  # the lifecycle of a message the customer sent

_STATUSES: dict[str, DeliveryStatus] = {
    "accepted": DeliveryStatus.QUEUED, "scheduled": DeliveryStatus.QUEUED, "queued": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.QUEUED, "sent": DeliveryStatus.SENT, "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ, "failed": DeliveryStatus.FAILED, "undelivered": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}
# By full MIME type, then by its major type; anything else is a document. WhatsApp stickers are WebP (photos arrive
# as JPEG/PNG); a shared contact arrives as a vCard.
_MEDIA_KINDS = {"image/webp": MessageType.STICKER, "text/vcard": MessageType.CONTACTS,
                "text/x-vcard": MessageType.CONTACTS, "image": MessageType.IMAGE, "video": MessageType.VIDEO,
                "audio": MessageType.AUDIO}
# Twilio's MessageType param mostly uses the domain's names; "button" is a quick-reply tap.
_MESSAGE_TYPES = {kind.value: kind for kind in MessageType} | {"button": MessageType.INTERACTIVE}
_REPLY_FIELDS = {"ButtonText": "text", "ButtonPayload": "payload", "ButtonType": "button_type",
                 "InteractiveData": "interactive_data", "FlowData": "flow_data"}  # the last two are JSON strings


def parse_form(raw_body: bytes) -> list[tuple[str, str]]:
    """An `application/x-www-form-urlencoded` UTF-8 body as (name, value) pairs, repeats and order kept."""
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"webhook body is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    if bad := _BAD_ESCAPE.search(text):
        raise ValueError(f"webhook body has a bad percent-escape at character {bad.start()}")
    try:
        found = parse_qsl(text, keep_blank_values=True, strict_parsing=True, encoding="utf-8", errors="strict",
                          max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise ValueError("webhook body percent-decodes to bytes that are not UTF-8") from None
    except ValueError as exc:
        raise ValueError(f"webhook body is not application/x-www-form-urlencoded ({str(exc)[:80]})") from None
    if any(name == "" for name, _ in found):
        raise ValueError("webhook body has a parameter with no name")
    return found


def account_key(params: Params) -> str:
    """The business sender the webhook concerns, E.164 without `whatsapp:`: `To` of an inbound message, `From` of a
    status callback. Ingestion finds the connected account by it."""
    return _account_key(_Fields(params))


def parse(params: Params, received_at: dt.datetime) -> list[InboundEvent]:
    """One inbound message or one status update; [] for a status that says nothing about an outbound message.

    Twilio puts no timestamp in these webhooks: `received_at` (timezone-aware) is when the request arrived."""
    if received_at.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")
    fields = _Fields(params)
    if fields.get("MessageSid") in (None, ""):
        raise ValueError("not a Twilio message webhook: MessageSid is missing "
                         f"(parameters: {', '.join(sorted(fields.names())) or 'none'})")
    if _is_status(fields):
        return _status(fields, received_at)
    return [_inbound(fields, received_at)]


class _Fields:
    """The parameters by name; a name the adapter reads must not carry two different values."""

    def __init__(self, params: Params) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in pairs(params):
            self._values.setdefault(name, []).append(value)

    def names(self) -> list[str]:
        return list(self._values)

    def get(self, name: str) -> str | None:
        values = self._values.get(name)
        if not values:
            return None
        if any(value != values[0] for value in values):
            raise ValueError(f"{name} is given {len(values)} times with different values")
        return values[0]

    def text(self, name: str) -> str | None:
        """The value, None when absent or empty."""
        return self.get(name) or None

    def flag(self, name: str) -> bool:
        return (self.get(name) or "").strip().lower() in ("true", "1")


def _is_status(fields: _Fields) -> bool:
    status = fields.get("MessageStatus")
    if status is None:
        return False
    if status.strip().lower() in _INBOUND_STATUSES:
        # Some inbound message webhooks carry MessageStatus=received next to the message itself.
        return fields.get("Body") is None and fields.get("NumMedia") is None
    return True


def _account_key(fields: _Fields) -> str:
    field = "From" if _is_status(fields) else "To"
    value = fields.text(field)
    if value is None:
        kind = "status callback" if field == "From" else "inbound message"
        raise ValueError(f"{kind} has no {field}: the business sender is missing")
    return _e164(value, field)


def _unprefixed(address: str) -> str:
    return address[len(_PREFIX):] if address.lower().startswith(_PREFIX) else address


def _e164(value: str, field: str) -> str:
    number = _unprefixed(value)
    if not _E164.fullmatch(number):
        raise ValueError(f"{field} {value!r} is not a WhatsApp address (whatsapp:+<E.164 number>)")
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"{field} {value!r} is not a phone number: {exc}") from None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _status(fields: _Fields, received_at: dt.datetime) -> list[InboundEvent]:
    raw = (fields.get("MessageStatus") or "").strip().lower()
    if (fields.get("EventType") or "").strip().upper() == "READ":
        raw = "read"  # WhatsApp read receipts (providers.md §5)
    status = _STATUSES.get(raw)
    if status is None:  # receiving/received, partially_delivered (group MMS), or a value Twilio added later
        return []
    error_title = fields.text("ErrorMessage") or fields.text("ChannelStatusMessage")
    if raw == "canceled":
        error_title = "canceled"
    recipient = fields.text("To")
    return [StatusUpdate(
        provider=PROVIDER, account_key=_account_key(fields), provider_message_id=fields.get("MessageSid") or "",
        status=status, at=received_at, recipient=_e164(recipient, "To") if recipient else None,
        error_code=fields.text("ErrorCode"), error_title=error_title)]


def _inbound(fields: _Fields, received_at: dt.datetime) -> InboundMessage:
    media, location, reply = _media(fields), _location(fields), _reply(fields)
    meta: dict[str, Any] = {key: value for key, value in (("location", location), ("reply", reply)) if value}
    referral = {_snake(name[len("Referral"):]): value for name in fields.names()
                if name.startswith("Referral") and (value := fields.text(name)) is not None}
    if set(referral) - {"num_media"}:  # every message carries ReferralNumMedia=0; only a real referral counts
        meta["referral"] = referral
    if replied_to := fields.text("OriginalRepliedMessageSid"):
        meta["context"] = {"provider_message_id": replied_to}
        if sender := fields.text("OriginalRepliedMessageSender"):
            meta["context"]["sender"] = _unprefixed(sender)
    if fields.flag("Forwarded") or fields.flag("FrequentlyForwarded"):
        meta["forwarded"] = {"frequently": fields.flag("FrequentlyForwarded")}
    text = fields.text("Body")
    return InboundMessage(
        provider=PROVIDER, account_key=_account_key(fields), provider_message_id=fields.get("MessageSid") or "",
        contact=_contact(fields), type=_type(fields, media, location, reply, text), sent_at=received_at,
        text=text, media=media, meta=meta)


def _contact(fields: _Fields) -> ContactRef:
    sender = fields.text("From")
    if sender is None:
        raise ValueError("inbound message has no From: the customer is missing")
    try:
        phone: str | None = _e164(sender, "From")
    except ValueError:
        phone = None
    external_id = fields.text("WaId") or (phone[1:] if phone else None)
    if external_id is None:
        raise ValueError(f"inbound message has neither WaId nor a phone number in From ({sender!r})")
    return ContactRef(external_id=external_id, phone=phone, display_name=fields.text("ProfileName"))


def _media(fields: _Fields) -> tuple[MediaRef, ...]:
    raw_count = fields.text("NumMedia") or "0"
    if not raw_count.isdigit():
        raise ValueError(f"NumMedia {raw_count!r} is not a count")
    found = []
    for index in range(int(raw_count)):
        url = fields.text(f"MediaUrl{index}")
        if url is None:
            raise ValueError(f"NumMedia is {raw_count} but MediaUrl{index} is missing")
        content_type = fields.text(f"MediaContentType{index}")
        found.append(MediaRef(kind=_media_kind(content_type), url=url, content_type=content_type))
    return tuple(found)


def _media_kind(content_type: str | None) -> MessageType:
    mime = (content_type or "").split(";")[0].strip().lower()
    return _MEDIA_KINDS.get(mime) or _MEDIA_KINDS.get(mime.partition("/")[0], MessageType.DOCUMENT)


def _location(fields: _Fields) -> dict[str, Any] | None:
    latitude, longitude = fields.text("Latitude"), fields.text("Longitude")
    if latitude is None and longitude is None:
        return None
    if latitude is None or longitude is None:
        missing = "Longitude" if latitude else "Latitude"
        raise ValueError(f"a location needs Latitude and Longitude; {missing} is missing")
    try:
        location: dict[str, Any] = {"latitude": float(latitude), "longitude": float(longitude)}
    except ValueError:
        location = {}
    if not (-90 <= location.get("latitude", 99) <= 90 and -180 <= location.get("longitude", 999) <= 180):
        raise ValueError(f"Latitude/Longitude {latitude!r}/{longitude!r} are not a position on Earth")
    for name in ("Address", "Label"):
        if (value := fields.text(name)) is not None:
            location[name.lower()] = value
    return location


def _reply(fields: _Fields) -> dict[str, Any] | None:
    reply: dict[str, Any] = {}
    for name, key in _REPLY_FIELDS.items():
        if (value := fields.text(name)) is not None:
            reply[key] = _json_or_text(value) if name.endswith("Data") else value
    return reply or None


def _json_or_text(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value  # kept as sent: a malformed rich reply must not lose the message


def _type(fields: _Fields, media: tuple[MediaRef, ...], location: dict[str, Any] | None,
          reply: dict[str, Any] | None, text: str | None) -> MessageType:
    declared = _MESSAGE_TYPES.get((fields.get("MessageType") or "").strip().lower())
    if location:
        return MessageType.LOCATION
    if reply or declared is MessageType.INTERACTIVE:
        return MessageType.INTERACTIVE
    if media:
        return MessageType.STICKER if declared is MessageType.STICKER else media[0].kind
    if text is not None:
        return MessageType.TEXT
    return declared or MessageType.UNSUPPORTED


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
