"""Provider-shaped webhooks the simulator sends to commsinbox, signed the way each provider signs them.

* Twilio: a form POST with `X-Twilio-Signature` over the exact target URL and every parameter (providers.md §1.1).
* Meta (WhatsApp and Instagram): JSON rendered once (escaped unicode, as Meta does) and signed as those exact bytes
  with the app secret: `X-Hub-Signature-256` (and the legacy `X-Hub-Signature`).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

import aiohttp
import attrs

from .. import meta_signature
from ..twilio_whatsapp import signature as twilio_signature
from .errors import META_ERRORS, TWILIO_ERRORS
from .state import IssuedMessage, MetaAccount, SimulatorState, StoredMedia, Template, TwilioAccount

WEBHOOK_PATHS = {"whatsapp-twilio": "/webhooks/twilio/whatsapp", "whatsapp-meta": "/webhooks/meta/whatsapp",
                 "instagram-meta": "/webhooks/meta/instagram"}
@attrs.frozen
class Webhook:
    url: str
    body: bytes
    headers: dict[str, str]
    payload: Any  # the JSON object, or the form as (name, value) pairs


def _media_kind(content_type: str) -> str:
    mime = content_type.split(";")[0].strip().lower()
    if mime == "image/webp":
        return "sticker"
    major = mime.partition("/")[0]
    return major if major in ("image", "video", "audio") else "document"


# Twilio ------------------------------------------------------------------------------------------------------------
def twilio_webhook(url: str, account: TwilioAccount, params: list[tuple[str, str]]) -> Webhook:
    body = urlencode(params).encode("utf-8")
    signature = twilio_signature.compute_signature(url, params, account.token)
    return Webhook(url, body, {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
                               "X-Twilio-Signature": signature}, params)


def twilio_inbound(state: SimulatorState, base: str, account: TwilioAccount, *, customer: str, business: str,
                   text: str, media: list[StoredMedia], profile_name: str) -> list[tuple[str, str]]:
    sid = state.sid("MM" if media else "SM")
    params = [("SmsMessageSid", sid), ("NumMedia", str(len(media))), ("ProfileName", profile_name),
              ("MessageType", _media_kind(media[0].content_type) if media else "text"), ("SmsSid", sid),
              ("WaId", customer.lstrip("+")), ("SmsStatus", "received"), ("Body", text),
              ("To", f"whatsapp:{business}")]
    for index, item in enumerate(media):
        params += [(f"MediaContentType{index}", item.content_type),
                   (f"MediaUrl{index}", f"{base}/2010-04-01/Accounts/{account.sid}/Messages/{sid}/Media/"
                                        f"{item.twilio_sid}")]
    params += [("NumSegments", "1"), ("ReferralNumMedia", "0"), ("MessageSid", sid), ("AccountSid", account.sid),
               ("From", f"whatsapp:{customer}"), ("ApiVersion", "2010-04-01")]
    return params


def twilio_status(message: IssuedMessage, status: str, error_code: int | None) -> list[tuple[str, str]]:
    install_sid = "XE" + hashlib.sha256(message.account_id.encode()).hexdigest()[:32]
    params = [("ChannelPrefix", "whatsapp"), ("ApiVersion", "2010-04-01"), ("SmsStatus", status),
              ("MessageStatus", status), ("ChannelInstallSid", install_sid),
              ("SmsSid", message.id), ("AccountSid", message.account_id), ("From", f"whatsapp:{message.sender}"),
              ("To", f"whatsapp:{message.recipient}"), ("ChannelToAddress", message.recipient),
              ("MessageSid", message.id), ("StructuredMessage", "false")]
    if status in ("delivered", "read"):
        params.append(("EventType", status.upper()))
    if status in ("failed", "undelivered"):
        code = error_code or 63016
        params += [("ErrorCode", str(code)), ("ErrorMessage", TWILIO_ERRORS.get(code, f"Error {code}"))]
    return params


# Meta --------------------------------------------------------------------------------------------------------------
def meta_webhook(url: str, account: MetaAccount, payload: dict[str, Any]) -> Webhook:
    body = json.dumps(payload).encode("ascii")  # escaped unicode, as Meta renders it; signed as these bytes
    legacy = hmac.new(account.app_secret.encode("utf-8"), body, hashlib.sha1).hexdigest()
    return Webhook(url, body, {"Content-Type": "application/json",
                               meta_signature.SIGNATURE_HEADER: meta_signature.sign(body, account.app_secret),
                               "X-Hub-Signature": f"sha1={legacy}"}, payload)


def _seconds(at: dt.datetime) -> str:
    return str(int(at.timestamp()))


def whatsapp_envelope(account: MetaAccount, value: dict[str, Any]) -> dict[str, Any]:
    metadata = {"display_phone_number": (account.display_phone_number or "").lstrip("+"),
                "phone_number_id": account.id}
    return {"object": "whatsapp_business_account", "entry": [{"id": account.waba_id or account.id, "changes": [
        {"value": {"messaging_product": "whatsapp", "metadata": metadata, **value}, "field": "messages"}]}]}


def whatsapp_inbound(state: SimulatorState, base: str, account: MetaAccount, *, customer: str, texts: list[str],
                     media: list[StoredMedia], profile_name: str, with_url: bool) -> dict[str, Any]:
    at, wa_id = state.clock.now(), customer.lstrip("+")
    messages: list[dict[str, Any]] = [
        {"from": wa_id, "id": state.wamid(), "timestamp": _seconds(at), "type": "text", "text": {"body": text}}
        for text in texts]
    for item in media:
        kind = _media_kind(item.content_type)
        content: dict[str, Any] = {"mime_type": item.content_type, "sha256": item.sha256_base64, "id": item.id}
        if kind == "document":
            content["filename"] = f"{item.id}.bin"
        if with_url:
            content["url"] = f"{base}/media-download/{item.id}"
        messages.append({"from": wa_id, "id": state.wamid(), "timestamp": _seconds(at), "type": kind, kind: content})
    contacts = [{"profile": {"name": profile_name}, "wa_id": wa_id}]
    return whatsapp_envelope(account, {"contacts": contacts, "messages": messages})


def whatsapp_status(message: IssuedMessage, account: MetaAccount, status: str, at: dt.datetime,
                    error_code: int | None) -> dict[str, Any]:
    item: dict[str, Any] = {"id": message.id, "status": status, "timestamp": _seconds(at),
                            "recipient_id": message.recipient}
    if message.callback_data is not None:
        item["biz_opaque_callback_data"] = message.callback_data
    if status == "sent":
        item["pricing"] = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
    if status == "failed":
        code = error_code or 131026
        title = META_ERRORS.get(code, f"Error {code}")
        item["errors"] = [{"code": code, "title": title, "message": title, "error_data": {"details": title},
                           "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]
    return whatsapp_envelope(account, {"statuses": [item]})


def template_status(account: MetaAccount, template: Template, at: dt.datetime, reason: str | None) -> dict[str, Any]:
    """`message_template_status_update` (providers.md §2.9): `entry.time` is an int, no `messaging_product`."""
    value = {"event": template.status, "message_template_id": int(template.id),
             "message_template_name": template.name, "message_template_language": template.language,
             "reason": reason if reason is not None else ("NONE" if template.status == "APPROVED" else None),
             "message_template_category": template.category}
    change = {"value": value, "field": "message_template_status_update"}
    return {"object": "whatsapp_business_account",
            "entry": [{"id": template.owner, "time": int(at.timestamp()), "changes": [change]}]}


def instagram_envelope(account: MetaAccount, at: dt.datetime, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "instagram", "entry": [{"id": account.id, "time": int(at.timestamp() * 1000),
                                              "messaging": items}]}


def instagram_inbound(state: SimulatorState, base: str, account: MetaAccount, *, customer: str, texts: list[str],
                      media: list[StoredMedia]) -> dict[str, Any]:
    at = state.clock.now()
    millis = int(at.timestamp() * 1000)
    bodies: list[dict[str, Any]] = [{"mid": state.ig_mid(), "text": text} for text in texts]
    for item in media:
        kind = _media_kind(item.content_type)
        bodies.append({"mid": state.ig_mid(), "attachments": [{
            "type": "file" if kind in ("document", "sticker") else kind,
            "payload": {"url": f"{base}/ig-cdn/{item.id}?sig={item.cdn_key}"}}]})
    items = [{"sender": {"id": customer}, "recipient": {"id": account.id}, "timestamp": millis, "message": body}
             for body in bodies]
    return instagram_envelope(account, at, items)


def instagram_seen(message: IssuedMessage, account: MetaAccount, at: dt.datetime) -> dict[str, Any]:
    item = {"sender": {"id": message.recipient}, "recipient": {"id": account.id},
            "timestamp": int(at.timestamp() * 1000), "read": {"mid": message.id}}
    return instagram_envelope(account, at, [item])


# Sending -----------------------------------------------------------------------------------------------------------
async def post(session: aiohttp.ClientSession, webhook: Webhook, *, timeout: float = 30,
               state: SimulatorState | None = None, note: dict[str, Any] | None = None) -> dict[str, Any]:
    """POSTs the webhook; reports the target's status and (short) answer, or the network error. With `state`,
    the outcome is also kept in `state.deliveries` (with `note`, e.g. the message id and status)."""
    try:
        async with session.post(webhook.url, data=webhook.body, headers=webhook.headers,
                                timeout=aiohttp.ClientTimeout(total=timeout), allow_redirects=False) as response:
            text = (await response.content.read(2048)).decode("utf-8", "replace")
            outcome: dict[str, Any] = {"httpStatus": response.status, "response": text}
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        outcome = {"httpStatus": None, "error": f"{type(exc).__name__}: {exc}"}
    if state is not None:
        state.deliveries.append({"url": webhook.url, "at": state.clock.now().isoformat(), **(note or {}), **outcome})
    return outcome
