"""WhatsApp Cloud API outbound, without HTTP: media rules and the Graph bodies for sending, reading and templates.

Sources: Meta "Send messages" / text / media / template docs and business-phone-numbers/media (providers.md §2.6,
§2.8, §2.9): text ≤ 4096 characters, captions ≤ 1024 on image/video/document, `filename` on documents; images
jpeg/png 5 MB; video mp4/3gpp 16 MB; audio aac/amr/mpeg/mp4/ogg (opus) 16 MB; documents txt/pdf/office 100 MB;
stickers webp 100 KB static, 500 KB animated (the larger bound is checked: animation is not visible from the type).
Template names `^[a-z0-9_]+$` ≤ 512; categories UTILITY / MARKETING (AUTHENTICATION bodies are fixed by Meta).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ....domain.model.channels import MessageType, Provider
from ....domain.model.errors import InvalidInput
from ....ports.providers import FailureReason, Outgoing, OutgoingMedia, ProviderError
from ..outbound import KB, MB, MediaRule, caption_of, check_length, check_variables, require_content, rules
from ..outbound import check_media as _check_media

__all__ = ["MEDIA_RULES", "check_media", "message_payload", "read_payload", "recipient", "template_payload"]

PROVIDER = Provider.WHATSAPP_META
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
TEMPLATE_BODY_LIMIT = 1024
MEDIA_RULES = rules(
    MediaRule(MessageType.IMAGE, frozenset({"image/jpeg", "image/png"}), 5 * MB),
    MediaRule(MessageType.VIDEO, frozenset({"video/mp4", "video/3gpp"}), 16 * MB),
    MediaRule(MessageType.AUDIO, frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}),
              16 * MB),
    MediaRule(MessageType.DOCUMENT, frozenset({
        "text/plain", "application/pdf", "application/msword", "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"}), 100 * MB),
    MediaRule(MessageType.STICKER, frozenset({"image/webp"}), 500 * KB),
)
CAPTIONED = frozenset({MessageType.IMAGE, MessageType.VIDEO, MessageType.DOCUMENT})
_TEMPLATE_NAME = re.compile(r"[a-z0-9_]{1,512}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2}|_[A-Za-z]{4})?")
_VARIABLE = re.compile(r"\{\{\s*(\d+)\s*\}\}")
_CATEGORIES = ("UTILITY", "MARKETING")
_OPAQUE_LIMIT = 512
_URL = re.compile(r"https?://", re.IGNORECASE)


def check_media(media: OutgoingMedia) -> None:
    _check_media(PROVIDER, MEDIA_RULES, media)


def recipient(to: str) -> str:
    """wa_id digits or E.164 → `+digits`: without the plus, Graph may prepend the business number's country code
    (providers.md §2.6)."""
    digits = to.strip().removeprefix("whatsapp:").removeprefix("+")
    if not re.fullmatch(r"[1-9][0-9]{6,14}", digits):
        raise ProviderError(f"{PROVIDER}: the recipient is not a WhatsApp number (wa_id or E.164)", transient=False,
                            reason=FailureReason.INVALID_RECIPIENT)
    return "+" + digits


def message_payload(message: Outgoing, media_id: str | None = None) -> dict[str, Any]:
    """The `/{phone_number_id}/messages` body. `media_id`: the id of media uploaded for this message (used instead
    of the link). Raises InvalidInput for what WhatsApp cannot carry."""
    require_content(PROVIDER, message, captioned=CAPTIONED)
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual",
                            "to": recipient(message.to)}
    if message.template is not None:
        body |= {"type": "template", "template": _template(message)}
    elif message.media is not None:
        media = message.media
        check_media(media)
        content: dict[str, Any] = {"id": media_id} if media_id else {"link": _link(media)}
        caption = caption_of(message)
        check_length("text", caption, CAPTION_LIMIT)
        if caption is not None:
            content["caption"] = caption
        if media.kind is MessageType.DOCUMENT and media.filename:
            content["filename"] = media.filename
        body |= {"type": str(media.kind), str(media.kind): content}
    else:
        text = message.text or ""
        check_length("text", text, TEXT_LIMIT)
        body |= {"type": "text", "text": {"preview_url": bool(_URL.search(text)), "body": text}}
    if message.reply_to:
        body["context"] = {"message_id": message.reply_to}
    if message.idempotency_key and len(message.idempotency_key) <= _OPAQUE_LIMIT:
        body["biz_opaque_callback_data"] = message.idempotency_key  # echoed in the status webhooks
    return body


def _link(media: OutgoingMedia) -> str:
    if not media.url:
        raise InvalidInput.single("attachmentIds", "the attachment has neither a URL nor data to upload")
    return media.url


def _template(message: Outgoing) -> dict[str, Any]:
    template = message.template
    assert template is not None
    if not _TEMPLATE_NAME.fullmatch(template.name):
        raise InvalidInput.single("template.name", "WhatsApp template names are lower-case letters, digits and _")
    if not _LANGUAGE.fullmatch(template.language):
        raise InvalidInput.single("template.language", "a WhatsApp language code such as en_US or pt_BR")
    found: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    if template.variables:
        found["components"] = [{"type": "body", "parameters": [{"type": "text", "text": value}
                                                               for value in template.variables]}]
    return found


def read_payload(provider_message_id: str) -> dict[str, Any]:
    if not provider_message_id.strip():
        raise InvalidInput.single("messageId", "no WhatsApp message id to mark as read")
    return {"messaging_product": "whatsapp", "status": "read", "message_id": provider_message_id}


def template_payload(name: str, language: str, category: str, body: str,
                     examples: Sequence[str] = ()) -> dict[str, Any]:
    """The `/{waba_id}/message_templates` body: one BODY component with positional `{{1}}…` variables, and the
    example values Meta requires for them (placeholders `example 1`… when none are given)."""
    if not _TEMPLATE_NAME.fullmatch(name):
        raise InvalidInput.single("name", "lower-case letters, digits and _ (at most 512)")
    if not _LANGUAGE.fullmatch(language):
        raise InvalidInput.single("language", "a WhatsApp language code such as en_US or pt_BR")
    upper = category.strip().upper()
    if upper not in _CATEGORIES:
        raise InvalidInput.single("category", "UTILITY or MARKETING (authentication templates have a body fixed "
                                              "by Meta)")
    if not body.strip():
        raise InvalidInput.single("body", "the template has no text")
    check_length("body", body, TEMPLATE_BODY_LIMIT)
    numbers = [int(found) for found in _VARIABLE.findall(body)]
    count = len(set(numbers))
    if sorted(set(numbers)) != list(range(1, count + 1)):
        raise InvalidInput.single("body", "variables must be numbered {{1}}, {{2}}, … without gaps")
    if examples and len(examples) != count:
        raise InvalidInput.single("examples", f"give one example per variable ({count})")
    check_variables(examples, "examples")
    component: dict[str, Any] = {"type": "BODY", "text": body}
    if count:
        values = list(examples) or [f"example {index}" for index in range(1, count + 1)]
        component["example"] = {"body_text": [values]}
    return {"name": name, "language": language, "category": upper, "parameter_format": "positional",
            "components": [component]}
