"""The Twilio REST API as the simulator speaks it: account fetch, message create, media (with its CDN redirect)."""
from __future__ import annotations

import secrets
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from ._shared import basic_credentials, serve_media, state_of, twilio_error
from .state import TWILIO, IssuedMessage, TwilioAccount

API = "/2010-04-01"


def add_routes(app: web.Application) -> None:
    app.router.add_get(API + "/Accounts/{sid}.json", get_account)
    app.router.add_post(API + "/Accounts/{sid}/Messages.json", create_message)
    app.router.add_get(API + "/Accounts/{sid}/Messages/{message_sid}/Media/{media_sid}", get_media)
    app.router.add_get("/twilio-cdn/{key}/{media_sid}", get_cdn_media)


def _authenticate(request: web.Request) -> TwilioAccount | web.Response:
    """The account in the path, when HTTP Basic names it with its auth token; else Twilio's 401 / 20003."""
    sid = request.match_info["sid"]
    account = state_of(request).twilio.get(sid)
    given = basic_credentials(request)
    if (account is None or given is None or given[0] != sid
            or not secrets.compare_digest(given[1].encode(), account.token.encode())):
        return twilio_error(401, 20003, "Authenticate")
    return account


async def get_account(request: web.Request) -> web.StreamResponse:
    account = _authenticate(request)
    if isinstance(account, web.Response):
        return account
    created = format_datetime(state_of(request).clock.now(), usegmt=True)
    uri = f"{API}/Accounts/{account.sid}.json"
    return web.json_response({
        "sid": account.sid, "owner_account_sid": account.sid, "friendly_name": "Simulated account",
        "status": "active", "type": "Full", "date_created": created, "date_updated": created, "uri": uri,
        "subresource_uris": {"messages": f"{API}/Accounts/{account.sid}/Messages.json"}})


def _address(value: str) -> str:
    return value[len("whatsapp:"):] if value.lower().startswith("whatsapp:") else value


async def create_message(request: web.Request) -> web.StreamResponse:
    account = _authenticate(request)
    if isinstance(account, web.Response):
        return account
    state = state_of(request)
    form = parse_qsl((await request.read()).decode("utf-8", "replace"), keep_blank_values=True)
    fields: dict[str, str] = {}
    media_urls: list[str] = []
    for name, value in form:
        if name == "MediaUrl":
            media_urls.append(value)
        else:
            fields[name] = value
    to, sender, service = fields.get("To", ""), fields.get("From", ""), fields.get("MessagingServiceSid")
    if not to:
        return twilio_error(400, 21604, "A 'To' phone number is required.")
    if not sender and not service:
        return twilio_error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message.")
    if not (fields.get("Body") or media_urls or fields.get("ContentSid")):
        return twilio_error(400, 21602, "Message body is required.")
    if _address(to) in account.opted_out:
        return twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
    sid = state.sid("SM")
    state.messages[sid] = IssuedMessage(
        id=sid, provider=TWILIO, account_id=account.sid, sender=_address(sender) or next(iter(account.senders), ""),
        recipient=_address(to), status_callback=fields.get("StatusCallback") or None)
    return web.json_response(_message_resource(account.sid, sid, fields, media_urls,
                                               format_datetime(state.clock.now(), usegmt=True)), status=201)


def _message_resource(account_sid: str, sid: str, fields: dict[str, str], media_urls: list[str],
                      now: str) -> dict[str, Any]:
    uri = f"{API}/Accounts/{account_sid}/Messages/{sid}"
    return {
        "account_sid": account_sid, "api_version": "2010-04-01", "body": fields.get("Body", ""),
        "date_created": now, "date_sent": None, "date_updated": now, "direction": "outbound-api",
        "error_code": None, "error_message": None, "from": fields.get("From") or None,
        "messaging_service_sid": fields.get("MessagingServiceSid"), "num_media": str(len(media_urls)),
        "num_segments": "1", "price": None, "price_unit": None, "sid": sid, "status": "queued",
        "subresource_uris": {"media": f"{uri}/Media.json"}, "to": fields.get("To"), "uri": f"{uri}.json"}


async def get_media(request: web.Request) -> web.StreamResponse:
    """Twilio answers the media URL with a redirect to a pre-signed CDN URL; so does the simulator."""
    account = _authenticate(request)
    if isinstance(account, web.Response):
        return account
    media = next((m for m in state_of(request).media.values() if m.twilio_sid == request.match_info["media_sid"]),
                 None)
    if media is None:
        return twilio_error(404, 20404, "The requested resource was not found")
    raise web.HTTPTemporaryRedirect(f"/twilio-cdn/{media.cdn_key}/{media.twilio_sid}")


async def get_cdn_media(request: web.Request) -> web.StreamResponse:
    media = next((m for m in state_of(request).media.values() if m.twilio_sid == request.match_info["media_sid"]),
                 None)
    if media is None or not secrets.compare_digest(media.cdn_key, request.match_info["key"]):
        return web.Response(status=403, text="AccessDenied")
    return await serve_media(request, media)
