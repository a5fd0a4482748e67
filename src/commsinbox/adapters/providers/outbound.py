"""What the three outbound adapters share and what needs no HTTP: media rules, content checks, template
variables. Pure functions (unit-tested on their own); each provider's table lives in its own `outbound.py`."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import attrs

from ...domain.model.channels import MEDIA_TYPES, MessageType, Provider
from ...domain.model.errors import FieldError, InvalidInput
from ...ports.providers import Outgoing, OutgoingMedia

__all__ = ["ATTACHMENTS", "KB", "MB", "MediaRule", "caption_of", "check_length", "check_media", "check_variables",
           "mime_of", "require_content", "rules"]

KB = 1024
MB = 1024 * 1024
ATTACHMENTS = "attachmentIds"  # the API field InvalidInput names for media the provider refuses
_BAD_VARIABLE = re.compile(r"[\n\t]| {5,}")  # Meta (132018) and Twilio (21656) refuse these in body parameters


@attrs.frozen
class MediaRule:
    """One kind of media a provider accepts: its content types and the largest size."""

    kind: MessageType
    content_types: frozenset[str]
    max_bytes: int


def rules(*items: MediaRule) -> Mapping[MessageType, MediaRule]:
    return {item.kind: item for item in items}


def mime_of(content_type: str) -> str:
    """`Audio/OGG; codecs=opus` → `audio/ogg`."""
    return content_type.split(";", 1)[0].strip().lower()


def _size(limit: int) -> str:
    return f"{limit // MB} MB" if limit >= MB else f"{limit // KB} KB"


def check_media(provider: Provider, table: Mapping[MessageType, MediaRule], media: OutgoingMedia) -> None:
    """Raises InvalidInput (field `attachmentIds`) unless `table` accepts the media's kind, type and size."""
    rule = table.get(media.kind)
    if rule is None:
        accepted = ", ".join(str(kind) for kind in table) or "none"
        kind = media.kind if media.kind in MEDIA_TYPES else f"{media.kind} (not a media kind)"
        raise InvalidInput.single(ATTACHMENTS, f"{provider} cannot send {kind} attachments (it sends {accepted})")
    mime = mime_of(media.content_type)
    if mime not in rule.content_types:
        raise InvalidInput.single(ATTACHMENTS, f"{provider} does not send {media.kind} files of type {mime or '?'} "
                                               f"(it accepts {', '.join(sorted(rule.content_types))})")
    if media.size < 0:
        raise InvalidInput.single(ATTACHMENTS, "the attachment size is negative")
    if media.size > rule.max_bytes:
        raise InvalidInput.single(ATTACHMENTS, f"{provider} sends {media.kind} files of at most "
                                               f"{_size(rule.max_bytes)}; this one has {media.size} bytes")
    if media.data is not None and len(media.data) != media.size:
        raise InvalidInput.single(ATTACHMENTS, f"the attachment has {len(media.data)} bytes, not the {media.size} "
                                               "its size says")


def require_content(provider: Provider, message: Outgoing, *, captioned: Iterable[MessageType] = (),
                    templates: bool = True) -> None:
    """The message carries exactly one thing to send: a template, or text and/or media (text as the media's
    caption only for `captioned` kinds). Raises InvalidInput naming the field."""
    if message.template is not None:
        if not templates:
            raise InvalidInput.single("template", f"{provider} has no message templates")
        if message.text is not None or message.media is not None:
            raise InvalidInput.single("template", "a template is sent on its own, without text or media")
        if not message.template.name.strip():
            raise InvalidInput.single("template.name", "the template has no name")
        check_variables(message.template.variables)
        return
    if message.media is None:
        if message.text is None or not message.text.strip():
            raise InvalidInput.single("text", "the message has no text, media or template")
        return
    caption = caption_of(message)
    if caption is not None and message.media.kind not in frozenset(captioned):
        raise InvalidInput.single("text", f"{provider} sends {message.media.kind} attachments without a caption; "
                                          "send the text as a message of its own")


def caption_of(message: Outgoing) -> str | None:
    """The media's caption: its own, else the message text (blank → none)."""
    if message.media is None:
        return None
    caption = message.media.caption if message.media.caption is not None else message.text
    return caption if caption is not None and caption.strip() else None


def check_variables(variables: Iterable[str], path: str = "template.variables") -> None:
    errors = [FieldError(f"{path}.{index}", "must be non-empty, without newlines, tabs or more than "
                                                        "four spaces in a row")
              for index, value in enumerate(variables)
              if not isinstance(value, str) or not value.strip() or _BAD_VARIABLE.search(value)]
    if errors:
        raise InvalidInput(errors)


def check_length(path: str, text: str | None, limit: int, *, utf8: bool = False, what: str = "characters") -> None:
    if text is None:
        return
    size = len(text.encode("utf-8")) if utf8 else len(text)
    if size > limit:
        raise InvalidInput.single(path, f"at most {limit} {what} (this has {size})")
