"""WhatsApp Cloud API `messages[]` items (and `message_echoes[]`) → InboundMessage / MessageDeleted.

The strict JSON readers at the top are shared with `webhook`: each failure is a ValueError naming the JSON path.
"""
from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from typing import Any

import phonenumbers

from commsinbox.domain.model.channels import Direction, MessageType, Provider
from commsinbox.domain.model.inbound import ContactRef, InboundMessage, MediaRef, MessageDeleted

PROVIDER = Provider.WHATSAPP_META

_MEDIA_KINDS = {"image": MessageType.IMAGE, "video": MessageType.VIDEO, "audio": MessageType.AUDIO,
                "document": MessageType.DOCUMENT, "sticker": MessageType.STICKER}
_MEDIA_FLAGS = ("voice", "animated")  # audio.voice (a voice note), sticker.animated
_CONTACT_META = ("user_id", "parent_user_id", "identity_key_hash")  # BSUIDs and the identity hash, when sent
_LOCATION_TEXT = ("name", "address", "url")
_REPLY_KINDS = ("button_reply", "list_reply")

def malformed(path: str, problem: str) -> ValueError:
    return ValueError(f"malformed WhatsApp webhook at {path}: {problem}")


def as_object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise malformed(path, f"expected an object, got {type(value).__name__}")
    return value


def as_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise malformed(path, f"expected an array, got {type(value).__name__}")
    return list(value)


def optional_list(parent: Mapping[str, Any], key: str, path: str) -> list[Any]:
    value = parent.get(key)
    return [] if value is None else as_list(value, f"{path}.{key}")


def optional_object(parent: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any] | None:
    value = parent.get(key)
    return None if value is None else as_object(value, f"{path}.{key}")


def optional_str(parent: Mapping[str, Any], key: str, path: str) -> str | None:
    value = parent.get(key)
    if value is not None and not isinstance(value, str):
        raise malformed(f"{path}.{key}", f"expected a string, got {type(value).__name__}")
    return value


def required_str(parent: Mapping[str, Any], key: str, path: str, *, allow_empty: bool = False) -> str:
    value = optional_str(parent, key, path)
    if value is None or (not value and not allow_empty):
        raise malformed(f"{path}.{key}", "expected a non-empty string")
    return value


def unix_seconds(value: Any, path: str) -> dt.datetime:
    """A UTC instant from Unix seconds: a string of digits (messages, statuses) or an int (entry.time)."""
    if isinstance(value, str) and value.isascii() and value.isdecimal():
        seconds = int(value)
    elif isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        seconds = value
    else:
        raise malformed(path, f"expected Unix seconds, got {value!r}")
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise malformed(path, f"Unix seconds out of range: {value!r}") from None


def e164(number: str | None) -> str | None:
    """`+<digits>` as E.164, or None when it is not a possible phone number (placeholders, group ids…)."""
    digits = (number or "").removeprefix("+")
    if not (digits.isascii() and digits.isdecimal()):
        return None
    try:
        parsed = phonenumbers.parse(f"+{digits}", None)
    except phonenumbers.NumberParseException:
        return None
    possible = phonenumbers.is_possible_number(parsed)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) if possible else None


def parse_message(raw: Any, path: str, *, account_key: str, contacts: Mapping[str, Mapping[str, Any]],
                  direction: Direction = Direction.IN) -> InboundMessage | MessageDeleted:
    """One `messages[]` item (peer = `from`) or, for direction OUT, one `message_echoes[]` item (peer = `to`)."""
    message = as_object(raw, path)
    message_id = required_str(message, "id", path)
    sent_at = unix_seconds(message.get("timestamp"), f"{path}.timestamp")
    kind = required_str(message, "type", path)
    contact, contact_meta = _contact(message, path, contacts, direction)
    if kind == "revoke":
        revoke = as_object(message.get("revoke"), f"{path}.revoke")
        original = required_str(revoke, "original_message_id", f"{path}.revoke")
        return MessageDeleted(provider=PROVIDER, account_key=account_key, provider_message_id=original, at=sent_at)

    meta: dict[str, Any] = {}
    if contact_meta:
        meta["contact"] = contact_meta
    message_type, text, media = _content(message, kind, path, meta)
    _envelope_meta(message, path, meta)
    return InboundMessage(provider=PROVIDER, account_key=account_key, provider_message_id=message_id,
                          contact=contact, type=message_type, sent_at=sent_at, direction=direction, text=text,
                          media=media, meta=meta)


def _contact(message: Mapping[str, Any], path: str, contacts: Mapping[str, Mapping[str, Any]],
             direction: Direction) -> tuple[ContactRef, dict[str, Any]]:
    peer_key = "from" if direction is Direction.IN else "to"
    peer = optional_str(message, peer_key, path)
    user_id = optional_str(message, f"{peer_key}_user_id", path)
    external_id = peer or user_id
    if not external_id:
        raise malformed(f"{path}.{peer_key}", "expected a non-empty string")
    found = contacts.get(peer or "") or contacts.get(user_id or "") or {}  # shapes checked by the caller
    profile = found.get("profile") or {}
    extra: dict[str, Any] = {key: found[key] for key in _CONTACT_META if found.get(key) is not None}
    if user_id and "user_id" not in extra:
        extra["user_id"] = user_id
    if profile.get("username"):
        extra["username"] = profile["username"]
    return ContactRef(external_id=external_id, phone=e164(peer), display_name=profile.get("name")), extra


def _content(message: Mapping[str, Any], kind: str, path: str,
             meta: dict[str, Any]) -> tuple[MessageType, str | None, tuple[MediaRef, ...]]:
    """The message's own payload object (`message[kind]`), read into type, text, media and `meta`."""
    body_path = f"{path}.{kind}"
    if kind == "text":
        return MessageType.TEXT, required_str(as_object(message.get("text"), body_path), "body", body_path,
                                              allow_empty=True), ()
    if kind in _MEDIA_KINDS:
        return _MEDIA_KINDS[kind], None, (_media(message.get(kind), kind, body_path, meta),)
    if kind == "location":
        meta["location"] = _location(as_object(message.get("location"), body_path), body_path)
        return MessageType.LOCATION, None, ()
    if kind == "contacts":
        meta["contacts"] = copy.deepcopy(as_list(message.get("contacts"), body_path))
        return MessageType.CONTACTS, None, ()
    if kind == "reaction":
        reaction = as_object(message.get("reaction"), body_path)
        meta["reaction"] = {"provider_message_id": required_str(reaction, "message_id", body_path),
                            "emoji": optional_str(reaction, "emoji", body_path) or None}
        return MessageType.REACTION, None, ()
    if kind == "interactive":
        return _interactive(as_object(message.get("interactive"), body_path), body_path, meta), None, ()
    if kind == "button":
        button = as_object(message.get("button"), body_path)
        meta["reply"] = {"kind": "button", "payload": optional_str(button, "payload", body_path),
                         "title": optional_str(button, "text", body_path)}
        return MessageType.INTERACTIVE, None, ()
    if kind == "order":
        meta["order"] = copy.deepcopy(dict(as_object(message.get("order"), body_path)))
        return MessageType.ORDER, None, ()
    if kind == "system":
        system = as_object(message.get("system"), body_path)
        meta["system"] = copy.deepcopy(dict(system))
        identity = optional_object(message, "identity", path)
        if identity is not None:
            meta["identity"] = copy.deepcopy(dict(identity))
        return MessageType.SYSTEM, optional_str(system, "body", body_path), ()
    # "unsupported" (older payloads: "unknown") and any type this parser does not know yet
    unsupported = optional_object(message, "unsupported", path)
    if unsupported is not None:
        meta["unsupported"] = copy.deepcopy(dict(unsupported))
    if kind not in ("unsupported", "unknown"):
        meta["provider_type"] = kind
    return MessageType.UNSUPPORTED, None, ()


def _media(raw: Any, kind: str, path: str, meta: dict[str, Any]) -> MediaRef:
    media = as_object(raw, path)
    for flag in _MEDIA_FLAGS:
        if isinstance(media.get(flag), bool):
            meta[flag] = media[flag]
    return MediaRef(kind=_MEDIA_KINDS[kind], media_id=required_str(media, "id", path),
                    url=optional_str(media, "url", path), content_type=optional_str(media, "mime_type", path),
                    sha256=optional_str(media, "sha256", path), filename=optional_str(media, "filename", path),
                    caption=optional_str(media, "caption", path))


def _location(location: Mapping[str, Any], path: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for axis in ("latitude", "longitude"):
        value = location.get(axis)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise malformed(f"{path}.{axis}", f"expected a number, got {value!r}")
        found[axis] = float(value)
    for key in _LOCATION_TEXT:
        value = optional_str(location, key, path)
        if value is not None:
            found[key] = value
    return found


def _interactive(interactive: Mapping[str, Any], path: str, meta: dict[str, Any]) -> MessageType:
    sub = required_str(interactive, "type", path)
    reply_path = f"{path}.{sub}"
    if sub in _REPLY_KINDS:
        body = as_object(interactive.get(sub), reply_path)
        reply: dict[str, Any] = {"kind": sub, "id": required_str(body, "id", reply_path),
                                 "title": optional_str(body, "title", reply_path)}
        description = optional_str(body, "description", reply_path)
        if description is not None:
            reply["description"] = description
    elif sub == "nfm_reply":  # a WhatsApp Flow completed: `name` identifies it, `body` is the label shown
        body = as_object(interactive.get(sub), reply_path)
        reply = {"kind": sub, "id": optional_str(body, "name", reply_path),
                 "title": optional_str(body, "body", reply_path),
                 "response_json": optional_str(body, "response_json", reply_path)}
    else:
        meta["provider_type"] = f"interactive.{sub}"
        return MessageType.UNSUPPORTED
    meta["reply"] = reply
    return MessageType.INTERACTIVE


def _envelope_meta(message: Mapping[str, Any], path: str, meta: dict[str, Any]) -> None:
    """What any message type may carry: reply context, forwarding, ad referral, errors, group."""
    context = optional_object(message, "context", path)
    if context is not None:
        context_path = f"{path}.context"
        quoted = optional_str(context, "id", context_path)
        if quoted:
            found: dict[str, Any] = {"provider_message_id": quoted,
                                     "from": optional_str(context, "from", context_path)}
            product = optional_object(context, "referred_product", context_path)
            if product is not None:
                found["referred_product"] = copy.deepcopy(dict(product))
            meta["context"] = found
        if context.get("frequently_forwarded") is True:
            meta["forwarded"] = "frequently_forwarded"
        elif context.get("forwarded") is True:
            meta["forwarded"] = "forwarded"
    referral = optional_object(message, "referral", path)
    if referral is not None:
        meta["referral"] = copy.deepcopy(dict(referral))
    errors = optional_list(message, "errors", path)
    if errors:
        meta["errors"] = copy.deepcopy(errors)
    group = optional_str(message, "group_id", path)
    if group:
        meta["group_id"] = group
