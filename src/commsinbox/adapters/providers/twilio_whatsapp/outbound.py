"""Twilio WhatsApp outbound, without HTTP: media rules, the Messages.json form, and Twilio's error codes.

Sources: Twilio "Guidance on WhatsApp Media Messages" (twilio.com/docs/whatsapp/guidance-whatsapp-media-messages:
16 MB per message, images 5 MB; images JPG/PNG, WEBP for stickers; audio OGG (opus)/AMR/3GP/AAC/MPEG; documents
PDF/DOC/DOCX/PPTX/XLSX; video MP4; no caption or filename on documents), Messages API (providers.md §1.4: Body ≤ 1600
characters, ContentSid `HX` + 32 hex, ContentVariables a JSON object) and Twilio's error pages (providers.md §1.4,
twilio.com/docs/api/errors/<code>).
"""
from __future__ import annotations

import json
import re
from typing import Any

from ....domain.model.channels import MessageType, Provider
from ....domain.model.errors import InvalidInput
from ....ports.providers import FailureReason as R
from ....ports.providers import Outgoing, OutgoingMedia, ProviderError
from ..http import ErrorInfo, ErrorKind
from ..outbound import KB, MB, MediaRule, caption_of, check_length, require_content, rules
from ..outbound import check_media as _check_media

__all__ = ["BODY_LIMIT", "MEDIA_RULES", "check_media", "message_form", "read_twilio_error", "recipient",
           "twilio_reason"]

PROVIDER = Provider.WHATSAPP_TWILIO
BODY_LIMIT = 1600  # characters (error 21617 beyond)
MEDIA_RULES = rules(
    MediaRule(MessageType.IMAGE, frozenset({"image/jpeg", "image/png"}), 5 * MB),
    MediaRule(MessageType.STICKER, frozenset({"image/webp"}), 500 * KB),  # WhatsApp's own sticker limit (animated)
    MediaRule(MessageType.AUDIO, frozenset({"audio/ogg", "audio/amr", "audio/3gpp", "audio/aac", "audio/mpeg"}),
              16 * MB),
    MediaRule(MessageType.VIDEO, frozenset({"video/mp4"}), 16 * MB),
    MediaRule(MessageType.DOCUMENT, frozenset({
        "application/pdf", "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}), 16 * MB),
)
CAPTIONED = frozenset({MessageType.IMAGE, MessageType.VIDEO})  # Twilio sets no caption on documents
CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")

_CREDENTIAL_CODES = frozenset({20003})
_TRANSIENT_CODES = frozenset({20429, 63018})
_REASONS: dict[int, R] = {
    21610: R.OPTED_OUT,  # "Attempt to send to unsubscribed recipient" (replied STOP)
    20429: R.RATE_LIMITED, 63018: R.RATE_LIMITED,  # REST concurrency; channel / pair / sandbox rate
    63016: R.WINDOW_CLOSED,  # freeform message outside the 24 h window (usually in a status callback)
    21211: R.INVALID_RECIPIENT, 21614: R.INVALID_RECIPIENT,  # invalid 'To' number
    21654: R.TEMPLATE_REJECTED, 21655: R.TEMPLATE_REJECTED, 21656: R.TEMPLATE_REJECTED,  # ContentSid / Variables
    21620: R.MEDIA_REJECTED,  # invalid media URL
    20003: R.CREDENTIALS_REJECTED,
    63007: R.PERMISSION_DENIED,  # no WhatsApp channel for this From on this account
    21602: R.INVALID_REQUEST, 21603: R.INVALID_REQUEST, 21604: R.INVALID_REQUEST, 21609: R.INVALID_REQUEST,
    21617: R.INVALID_REQUEST, 21910: R.INVALID_REQUEST,
}


def twilio_reason(code: int | str | None) -> R | None:
    """The domain reason for a Twilio error code (synchronous or from a status callback's ErrorCode)."""
    return _REASONS.get(int(code)) if code is not None and str(code).isdigit() else None


def read_twilio_error(status: int, body: Any) -> ErrorInfo:
    """The legacy `{code, message, status}` body and the RFC 9457 one (`{type, title, status, code, detail}`)."""
    if not isinstance(body, dict):
        return ErrorInfo()
    raw_code = body.get("code")
    code = str(raw_code) if isinstance(raw_code, (int, str)) and str(raw_code).isdigit() else None
    message = next((body[key] for key in ("message", "detail", "title") if isinstance(body.get(key), str)), None)
    kind = None
    if code is not None:
        if int(code) in _CREDENTIAL_CODES:
            kind = ErrorKind.CREDENTIALS
        elif int(code) in _TRANSIENT_CODES:
            kind = ErrorKind.TRANSIENT
    return ErrorInfo(code=code, message=message, kind=kind, reason=twilio_reason(code))


def check_media(media: OutgoingMedia) -> None:
    _check_media(PROVIDER, MEDIA_RULES, media)


def recipient(to: str) -> str:
    """`whatsapp:+E164`, `+E164` or E.164 digits → `+E164`; anything else is refused before any request."""
    value = to.strip().removeprefix("whatsapp:")
    value = value if value.startswith("+") else "+" + value
    if not _E164.fullmatch(value):
        raise ProviderError(f"{PROVIDER}: the recipient is not a phone number in E.164", transient=False,
                            reason=R.INVALID_RECIPIENT)
    return value


def message_form(sender: str, message: Outgoing) -> list[tuple[str, str]]:
    """The Messages.json form for one message (raises InvalidInput for what Twilio cannot carry)."""
    require_content(PROVIDER, message, captioned=CAPTIONED)
    form = [("To", f"whatsapp:{recipient(message.to)}"), ("From", f"whatsapp:{sender}")]
    if message.template is not None:
        if not CONTENT_SID.fullmatch(message.template.name):
            raise InvalidInput.single("template.name", "Twilio sends templates by their Content SID (HX followed by "
                                                       "32 hex digits)")
        form.append(("ContentSid", message.template.name))
        if message.template.variables:
            variables = {str(index): value for index, value in enumerate(message.template.variables, start=1)}
            form.append(("ContentVariables", json.dumps(variables, ensure_ascii=False, separators=(",", ":"))))
    elif message.media is not None:
        check_media(message.media)
        if not message.media.url:
            raise InvalidInput.single("attachmentIds", "Twilio fetches media from a URL; this attachment has none")
        form.append(("MediaUrl", message.media.url))
        caption = caption_of(message)
        check_length("text", caption, BODY_LIMIT)
        if caption is not None:
            form.append(("Body", caption))
    else:
        check_length("text", message.text, BODY_LIMIT)
        form.append(("Body", message.text or ""))
    if message.status_callback_url:
        form.append(("StatusCallback", message.status_callback_url))
    return form
