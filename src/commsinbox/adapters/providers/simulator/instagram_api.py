"""Instagram Send API requests as the simulator checks them (`POST /me/messages`, `/{ig_id}/messages`): messages
and sender actions, with Graph's error codes (providers.md §3.2)."""
from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from .errors import graph_error
from .state import INSTAGRAM, IssuedMessage, MetaAccount, SimulatorState

ATTACHMENT_TYPES = ("image", "audio", "video", "file", "MEDIA_SHARE", "like_heart")
SENDER_ACTIONS = ("mark_seen", "typing_on", "typing_off", "react", "unreact")
MESSAGING_TYPES = ("RESPONSE", "UPDATE", "MESSAGE_TAG")
_URL = re.compile(r"https?://[^\s/]+(/\S*)?", re.IGNORECASE)


def _invalid(message: str, *, subcode: int | None = None) -> web.Response:
    return graph_error(400, 100, message, subcode=subcode, type_="IGApiException")


def send(state: SimulatorState, account: MetaAccount, body: dict[str, Any]) -> web.Response | IssuedMessage:
    """A sender action (answered here), a refusal, or the message now issued (the caller answers)."""
    recipient = body.get("recipient")
    recipient_id = recipient.get("id") if isinstance(recipient, dict) else None
    if not isinstance(recipient_id, str) or not recipient_id:
        return _invalid("Invalid parameter: recipient.id is required")
    if not recipient_id.isdigit():
        return _invalid("No matching user found", subcode=2534014)
    if "sender_action" in body:
        return _sender_action(state, account, recipient_id, body)
    messaging_type, tag = body.get("messaging_type"), body.get("tag")
    if messaging_type is not None and messaging_type not in MESSAGING_TYPES:
        return _invalid(f"Invalid parameter: messaging_type must be one of {', '.join(MESSAGING_TYPES)}")
    if (messaging_type == "MESSAGE_TAG") != (tag is not None) or tag not in (None, "HUMAN_AGENT"):
        return _invalid("Invalid parameter: Instagram accepts only MESSAGE_TAG with tag HUMAN_AGENT")
    message = body.get("message")
    if not isinstance(message, dict):
        return _invalid("Invalid parameter: message is required")
    refused = _check_message(message)
    if refused is not None:
        return refused
    reply_to = body.get("reply_to")
    if reply_to is not None and (not isinstance(reply_to, dict) or not isinstance(reply_to.get("mid"), str)):
        return _invalid("Invalid parameter: reply_to.mid")
    mid = state.ig_mid()
    kind = "text" if "text" in message else "attachment"
    issued = IssuedMessage(id=mid, provider=INSTAGRAM, account_id=account.id, sender=account.id,
                           recipient=recipient_id, kind=kind)
    state.messages[mid] = issued
    return issued


def answer(message: IssuedMessage) -> web.Response:
    return web.json_response({"recipient_id": message.recipient, "message_id": message.id})


def _check_message(message: dict[str, Any]) -> web.Response | None:
    parts = [key for key in ("text", "attachment", "attachments") if key in message]
    if len(parts) != 1:
        return _invalid("Invalid parameter: message needs exactly one of text, attachment, attachments")
    if "text" in message:
        text = message["text"]
        if not isinstance(text, str) or not text.strip():
            return _invalid("Invalid parameter: message.text is empty")
        if len(text.encode("utf-8")) > 1000:
            return _invalid("Length of param message[text] must be less than or equal to 1000")
        return None
    attachments = message.get("attachments") or [message.get("attachment")]
    for attachment in attachments if isinstance(attachments, list) else [None]:
        kind = attachment.get("type") if isinstance(attachment, dict) else None
        payload = attachment.get("payload") if isinstance(attachment, dict) else None
        if kind not in ATTACHMENT_TYPES or not isinstance(payload, dict):
            return _invalid(f"Invalid parameter: attachment type must be one of {', '.join(ATTACHMENT_TYPES)}")
        url = payload.get("url")
        if kind in ("image", "audio", "video", "file") and "attachment_id" not in payload and (
                not isinstance(url, str) or not _URL.fullmatch(url)):
            return _invalid("Invalid parameter: attachment.payload.url must be an http(s) URL")
    return None


def _sender_action(state: SimulatorState, account: MetaAccount, recipient_id: str,
                   body: dict[str, Any]) -> web.Response:
    action = body.get("sender_action")
    if action not in SENDER_ACTIONS:
        return _invalid(f"Invalid parameter: sender_action must be one of {', '.join(SENDER_ACTIONS)}")
    if action in ("react", "unreact"):
        payload = body.get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("message_id"), str):
            return _invalid("Invalid parameter: payload.message_id is required")
    if action == "mark_seen":
        state.reads.append({"provider": INSTAGRAM, "account": account.id, "recipientId": recipient_id})
    return web.json_response({"recipient_id": recipient_id})
