"""Instagram Send API outbound, without HTTP: media rules and the Graph bodies for messages and `mark_seen`.

Sources: Meta instagram-messaging send-message and Instagram-Login messaging-api docs (providers.md §3.2): text
UTF-8 ≤ 1000 bytes; attachments by URL (`image`, `audio`, `video`, `file`), never with a caption; image
png/jpeg ≤ 8 MB; audio aac/m4a/wav/mp4 ≤ 25 MB; video mp4/ogg/avi/mov/webm ≤ 25 MB; file pdf ≤ 25 MB; no
stickers. Messaging type RESPONSE inside the 24 h window, MESSAGE_TAG + HUMAN_AGENT (7 days, human agents only).
No templates.
"""
from __future__ import annotations

from typing import Any

from ....domain.model.channels import MessageType, Provider
from ....domain.model.errors import InvalidInput
from ....ports.providers import FailureReason, Outgoing, OutgoingMedia, ProviderError
from ..outbound import MB, MediaRule, check_length, require_content, rules
from ..outbound import check_media as _check_media

__all__ = ["MEDIA_RULES", "check_media", "message_payload", "recipient", "seen_payload"]

PROVIDER = Provider.INSTAGRAM_META
TEXT_LIMIT_BYTES = 1000
MEDIA_RULES = rules(
    MediaRule(MessageType.IMAGE, frozenset({"image/png", "image/jpeg"}), 8 * MB),
    MediaRule(MessageType.AUDIO, frozenset({"audio/aac", "audio/mp4", "audio/x-m4a", "audio/m4a", "audio/wav",
                                            "audio/x-wav", "audio/wave"}), 25 * MB),
    MediaRule(MessageType.VIDEO, frozenset({"video/mp4", "video/ogg", "video/x-msvideo", "video/avi",
                                            "video/quicktime", "video/webm"}), 25 * MB),
    MediaRule(MessageType.DOCUMENT, frozenset({"application/pdf"}), 25 * MB),
)
_ATTACHMENT_TYPES = {MessageType.IMAGE: "image", MessageType.AUDIO: "audio", MessageType.VIDEO: "video",
                     MessageType.DOCUMENT: "file"}


def check_media(media: OutgoingMedia) -> None:
    _check_media(PROVIDER, MEDIA_RULES, media)


def recipient(to: str) -> str:
    """An Instagram-scoped user id (IGSID: digits)."""
    value = to.strip()
    if not value.isdigit() or len(value) > 64:
        raise ProviderError(f"{PROVIDER}: the recipient is not an Instagram-scoped user id", transient=False,
                            reason=FailureReason.INVALID_RECIPIENT)
    return value


def message_payload(message: Outgoing) -> dict[str, Any]:
    """The `/me/messages` body (raises InvalidInput for what Instagram cannot carry: templates, captions,
    stickers, media without a URL, text over 1000 bytes)."""
    require_content(PROVIDER, message, templates=False)
    body: dict[str, Any] = {"recipient": {"id": recipient(message.to)}}
    if message.human_agent_tag:
        body |= {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    else:
        body["messaging_type"] = "RESPONSE"
    if message.media is not None:
        check_media(message.media)
        if not message.media.url:
            raise InvalidInput.single("attachmentIds", "Instagram fetches attachments from a URL; this one has none")
        body["message"] = {"attachment": {"type": _ATTACHMENT_TYPES[message.media.kind],
                                          "payload": {"url": message.media.url}}}
    else:
        check_length("text", message.text, TEXT_LIMIT_BYTES, utf8=True, what="bytes (UTF-8)")
        body["message"] = {"text": message.text}
    if message.reply_to:
        body["reply_to"] = {"mid": message.reply_to}
    return body


def seen_payload(contact_external_id: str) -> dict[str, Any]:
    return {"recipient": {"id": recipient(contact_external_id)}, "sender_action": "mark_seen"}
