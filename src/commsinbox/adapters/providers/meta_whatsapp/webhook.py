"""WhatsApp Cloud API webhook payload (`object: whatsapp_business_account`) → normalised inbound events.

Pure: give it the parsed JSON of a POST whose signature was already checked (see `meta_signature`). Every
`entry[]`, every `changes[]` and every item inside is read, in order, so batched deliveries lose nothing:

* `field: messages` → InboundMessage per `messages[]` item (MessageDeleted for a `revoke`), StatusUpdate per
  `statuses[]` item; `account_key` is `value.metadata.phone_number_id`.
* `field: smb_message_echoes` → InboundMessage with direction OUT per `message_echoes[]` item (a message the
  business sent from the WhatsApp Business app; the customer is `to`).
* `field: message_template_status_update` → TemplateStatusChanged; `account_key` is the WABA id (`entry.id`).
* Any other field (account_update, phone_number_quality_update, …) yields nothing, and so do status values this
  parser does not know.

A payload whose structure is wrong (missing ids or timestamps, wrong types) raises ValueError naming the JSON path.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from commsinbox.domain.model.channels import DeliveryStatus, Direction
from commsinbox.domain.model.inbound import InboundEvent, StatusUpdate, TemplateStatusChanged

from .messages import (PROVIDER, as_list, as_object, e164, malformed, optional_list, optional_object, optional_str,
                       parse_message, required_str, unix_seconds)

__all__ = ["OBJECT", "parse"]

OBJECT = "whatsapp_business_account"

_STATUSES = {"sent": DeliveryStatus.SENT, "delivered": DeliveryStatus.DELIVERED, "read": DeliveryStatus.READ,
             "played": DeliveryStatus.PLAYED, "failed": DeliveryStatus.FAILED}
_TEMPLATE_NO_REASON = "NONE"


def parse(payload: Mapping[str, Any]) -> list[InboundEvent]:
    """All events in a webhook delivery, in payload order."""
    root = as_object(payload, "$")
    if root.get("object") != OBJECT:
        raise malformed("$.object", f"expected {OBJECT!r}, got {root.get('object')!r}")
    events: list[InboundEvent] = []
    for entry_index, raw_entry in enumerate(as_list(root.get("entry"), "$.entry")):
        entry_path = f"$.entry[{entry_index}]"
        entry = as_object(raw_entry, entry_path)
        for change_index, raw_change in enumerate(as_list(entry.get("changes"), f"{entry_path}.changes")):
            change_path = f"{entry_path}.changes[{change_index}]"
            change = as_object(raw_change, change_path)
            reader = _READERS.get(required_str(change, "field", change_path))
            if reader is not None:
                value_path = f"{change_path}.value"
                events.extend(reader(entry, entry_path, as_object(change.get("value"), value_path), value_path))
    return events


def _messages(entry: Mapping[str, Any], entry_path: str, value: Mapping[str, Any],
              path: str) -> list[InboundEvent]:
    account_key = _phone_number_id(value, path)
    contacts = _contacts_by_id(value, path)
    events: list[InboundEvent] = [
        parse_message(raw, f"{path}.messages[{index}]", account_key=account_key, contacts=contacts)
        for index, raw in enumerate(optional_list(value, "messages", path))]
    for index, raw in enumerate(optional_list(value, "statuses", path)):
        status = _status(raw, f"{path}.statuses[{index}]", account_key)
        if status is not None:
            events.append(status)
    return events


def _echoes(entry: Mapping[str, Any], entry_path: str, value: Mapping[str, Any], path: str) -> list[InboundEvent]:
    account_key = _phone_number_id(value, path)
    contacts = _contacts_by_id(value, path)
    return [parse_message(raw, f"{path}.message_echoes[{index}]", account_key=account_key, contacts=contacts,
                          direction=Direction.OUT)
            for index, raw in enumerate(optional_list(value, "message_echoes", path))]


def _template_status(entry: Mapping[str, Any], entry_path: str, value: Mapping[str, Any],
                     path: str) -> list[InboundEvent]:
    reason = optional_str(value, "reason", path)
    return [TemplateStatusChanged(
        provider=PROVIDER, account_key=_id_string(entry.get("id"), f"{entry_path}.id"),
        template_id=_id_string(value.get("message_template_id"), f"{path}.message_template_id"),
        name=required_str(value, "message_template_name", path),
        language=required_str(value, "message_template_language", path),
        status=required_str(value, "event", path), at=unix_seconds(entry.get("time"), f"{entry_path}.time"),
        reason=None if reason in (None, "", _TEMPLATE_NO_REASON) else reason)]


_Reader = Callable[[Mapping[str, Any], str, Mapping[str, Any], str], list[InboundEvent]]
_READERS: dict[str, _Reader] = {"messages": _messages, "smb_message_echoes": _echoes,
                                "message_template_status_update": _template_status}


def _phone_number_id(value: Mapping[str, Any], path: str) -> str:
    metadata = as_object(value.get("metadata"), f"{path}.metadata")
    return _id_string(metadata.get("phone_number_id"), f"{path}.metadata.phone_number_id")


def _contacts_by_id(value: Mapping[str, Any], path: str) -> dict[str, Mapping[str, Any]]:
    """`value.contacts[]` keyed by `wa_id` (and by `user_id`, for messages that carry only a BSUID)."""
    found: dict[str, Mapping[str, Any]] = {}
    for index, raw in enumerate(optional_list(value, "contacts", path)):
        item_path = f"{path}.contacts[{index}]"
        contact = as_object(raw, item_path)
        profile = optional_object(contact, "profile", item_path) or {}
        for key in ("name", "username"):
            optional_str(profile, key, f"{item_path}.profile")
        for key in ("wa_id", "user_id"):
            contact_id = optional_str(contact, key, item_path)
            if contact_id:
                found.setdefault(contact_id, contact)
    return found


def _status(raw: Any, path: str, account_key: str) -> StatusUpdate | None:
    item = as_object(raw, path)
    message_id = required_str(item, "id", path)
    at = unix_seconds(item.get("timestamp"), f"{path}.timestamp")
    status = _STATUSES.get(required_str(item, "status", path))
    if status is None:
        return None
    recipient_key = "recipient_participant_id" if item.get("recipient_type") == "group" else "recipient_id"
    error_code, error_title = _first_error(optional_list(item, "errors", path), f"{path}.errors")
    return StatusUpdate(provider=PROVIDER, account_key=account_key, provider_message_id=message_id, status=status,
                        at=at, recipient=e164(optional_str(item, recipient_key, path)), error_code=error_code,
                        error_title=error_title)


def _first_error(errors: list[Any], path: str) -> tuple[str | None, str | None]:
    """The first error's code and one human sentence: its title, completed by `error_data.details` if that adds."""
    if not errors:
        return None, None
    error = as_object(errors[0], f"{path}[0]")
    code = error.get("code")
    code_text = _id_string(code, f"{path}[0].code") if code is not None else None
    title = optional_str(error, "title", f"{path}[0]") or optional_str(error, "message", f"{path}[0]")
    data = optional_object(error, "error_data", f"{path}[0]") or {}
    details = optional_str(data, "details", f"{path}[0].error_data")
    return code_text, _sentence(title, details)


def _id_string(value: Any, path: str) -> str:
    """An id Meta sends as a number in some events and as a string in others."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value:
        return value
    raise malformed(path, "expected a non-empty id (string or integer)")


def _sentence(title: str | None, details: str | None) -> str | None:
    if not title or not details:
        return title or details or None
    short, long = _plain(title), _plain(details)
    if long in short:
        return title
    if short in long:
        return details
    return f"{title.rstrip('. ')}: {details}"


def _plain(text: str) -> str:
    return " ".join(text.lower().strip(" .").split())
