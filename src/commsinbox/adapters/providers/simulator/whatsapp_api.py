"""WhatsApp Cloud API sends as the simulator checks them: `POST /{phone_number_id}/messages` (messages and read
marks) and `POST /{phone_number_id}/media` (uploads), with Meta's error codes (providers.md §2.6–§2.9)."""
from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from ..meta_whatsapp.outbound import MEDIA_RULES
from ..outbound import mime_of
from ._shared import multipart_parts
from .errors import graph_error
from .state import WHATSAPP, IssuedMessage, MetaAccount, SimulatorState, StoredMedia

MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")
OTHER_KINDS = ("text", "template", "location", "contacts", "interactive", "reaction")
CAPTIONED = ("image", "video", "document")
_TO = re.compile(r"\+?[1-9][0-9]{6,14}")
_URL = re.compile(r"https?://[^\s/]+(/\S*)?", re.IGNORECASE)
_ACCEPTED = {mime: rule for rule in MEDIA_RULES.values() for mime in rule.content_types}


def _invalid(message: str, code: int = 100) -> web.Response:
    return graph_error(400, code, message, whatsapp=True)


def send(state: SimulatorState, account: MetaAccount, body: dict[str, Any]) -> web.Response | IssuedMessage:
    """A read mark (answered here), a refusal, or the message now issued (the caller answers)."""
    if body.get("messaging_product") != "whatsapp":
        return _invalid("Invalid parameter: messaging_product must be 'whatsapp'")
    if body.get("status") is not None:
        return _mark_read(state, account, body)
    if body.get("recipient_type", "individual") not in ("individual", "group"):
        return _invalid("Invalid parameter: recipient_type")
    to = body.get("to")
    if not isinstance(to, str) or not _TO.fullmatch(to):
        return _invalid("Parameter value is not valid: 'to' must be a phone number", 131009)
    if to.lstrip("+") == (account.display_phone_number or "").lstrip("+"):
        return _invalid("Recipient cannot be sender", 131021)
    kind = body.get("type", "text")
    if kind not in MEDIA_KINDS + OTHER_KINDS:
        return _invalid(f"Invalid parameter: type '{kind}' is not a message type")
    content = body.get(kind)
    if not isinstance(content, dict):
        return _invalid(f"Required parameter is missing: '{kind}'", 131008)
    refused = (_check_text(content) if kind == "text" else _check_media(state, kind, content)
               if kind in MEDIA_KINDS else _check_template(state, account, content) if kind == "template" else None)
    if refused is not None:
        return refused
    context, opaque = body.get("context"), body.get("biz_opaque_callback_data")
    if context is not None and (not isinstance(context, dict) or not isinstance(context.get("message_id"), str)):
        return _invalid("Invalid parameter: context.message_id")
    if opaque is not None and (not isinstance(opaque, str) or len(opaque) > 512):
        return _invalid("Invalid parameter: biz_opaque_callback_data must be a string of at most 512 characters")
    wamid = state.wamid()
    message = IssuedMessage(id=wamid, provider=WHATSAPP, account_id=account.id, sender=account.id,
                            recipient=to.lstrip("+"), kind=kind, callback_data=opaque)
    state.messages[wamid] = message
    return message


def answer(message: IssuedMessage, to: str) -> web.Response:
    found: dict[str, Any] = {"id": message.id}
    if message.kind == "template":
        found["message_status"] = "accepted"
    return web.json_response({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": message.recipient}],
                              "messages": [found]})


def _mark_read(state: SimulatorState, account: MetaAccount, body: dict[str, Any]) -> web.Response:
    message_id = body.get("message_id")
    if body.get("status") != "read" or not isinstance(message_id, str) or not message_id.startswith("wamid."):
        return _invalid("Invalid parameter: a read mark is {status: 'read', message_id: wamid}")
    state.reads.append({"provider": WHATSAPP, "account": account.id, "messageId": message_id})
    return web.json_response({"success": True})


def _check_text(content: dict[str, Any]) -> web.Response | None:
    text = content.get("body")
    if not isinstance(text, str) or not text.strip():
        return _invalid("Required parameter is missing: text.body", 131008)
    if len(text) > 4096:
        return _invalid("Parameter value is not valid: text.body is longer than 4096 characters", 131009)
    if not isinstance(content.get("preview_url", False), bool):
        return _invalid("Invalid parameter: text.preview_url must be a boolean")
    return None


def _check_media(state: SimulatorState, kind: str, content: dict[str, Any]) -> web.Response | None:
    media_id, link = content.get("id"), content.get("link")
    if (media_id is None) == (link is None):
        return _invalid(f"Invalid parameter: {kind} needs either id or link", 131008)
    if media_id is not None and (not isinstance(media_id, str) or media_id not in state.media):
        return _invalid(f"Parameter value is not valid: no media with id {media_id!r}", 131009)
    if link is not None and (not isinstance(link, str) or not _URL.fullmatch(link)):
        return _invalid(f"Parameter value is not valid: {kind}.link must be an http(s) URL", 131009)
    caption = content.get("caption")
    if caption is not None and (kind not in CAPTIONED or not isinstance(caption, str) or len(caption) > 1024):
        return _invalid(f"Invalid parameter: {kind}.caption")
    if "filename" in content and kind != "document":
        return _invalid(f"Invalid parameter: {kind}.filename")
    return None


def _check_template(state: SimulatorState, account: MetaAccount, content: dict[str, Any]) -> web.Response | None:
    name, language = content.get("name"), content.get("language")
    code = language.get("code") if isinstance(language, dict) else None
    if not isinstance(name, str) or not isinstance(code, str):
        return _invalid("Required parameter is missing: template.name and template.language.code", 131008)
    template = state.template(WHATSAPP, account.waba_id, name, code)
    if template is None or template.status not in ("APPROVED", "PAUSED", "DISABLED"):
        return graph_error(404, 132001, f"Template name does not exist in the translation: {name} ({code})",
                           whatsapp=True)
    if template.status == "PAUSED":
        return _invalid(f"Template is paused: {name}", 132015)
    if template.status == "DISABLED":
        return _invalid(f"Template has been disabled: {name}", 132016)
    components = content.get("components", [])
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        return _invalid("Invalid parameter: template.components")
    given = sum(len(c.get("parameters") or []) for c in components if str(c.get("type", "")).lower() == "body")
    if given != template.variables:
        return _invalid(f"Number of parameters does not match the expected number of params: body expects "
                        f"{template.variables}, got {given}", 132000)
    return None


async def upload(request: web.Request, state: SimulatorState, account: MetaAccount) -> web.Response:
    """`multipart/form-data` with `messaging_product=whatsapp`, `type` and `file` → `{"id"}` (usable by id)."""
    try:
        parts = multipart_parts(request, await request.read())
    except ValueError:
        return _invalid("Invalid parameter: the upload must be multipart/form-data")
    fields = {p.name: p.data.decode("utf-8", "replace") for p in parts if p.name and p.filename is None}
    file = next((p for p in parts if p.name == "file" and p.filename is not None), None)
    data = file.data if file is not None else None
    content_type = (file.content_type or "application/octet-stream") if file is not None else None
    if fields.get("messaging_product") != "whatsapp":
        return _invalid("Required parameter is missing: messaging_product", 131008)
    if data is None or content_type is None:
        return _invalid("Required parameter is missing: file", 131008)
    mime = mime_of(fields.get("type") or content_type)
    rule = _ACCEPTED.get(mime)
    if rule is None or mime != mime_of(content_type):
        return _invalid(f"Media upload error: type {mime} is not supported (or differs from the file's)", 131053)
    if len(data) > rule.max_bytes:
        return _invalid(f"Media upload error: {len(data)} bytes exceed the {rule.max_bytes}-byte limit", 131053)
    media = StoredMedia(id=state.numeric_id(), data=data, content_type=content_type, twilio_sid=state.sid("ME"),
                        cdn_key=state.sid("K"))
    state.media[media.id] = media
    return web.json_response({"id": media.id})
