"""The Twilio REST API as the simulator speaks it: account fetch, message create (checked the way Twilio checks it),
media (with its CDN redirect)."""
from __future__ import annotations

import json
import re
import secrets
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from . import status as status_callbacks
from ._shared import basic_credentials, serve_media, state_of
from .errors import twilio_error
from .state import TWILIO, IssuedMessage, TwilioAccount

API = "/2010-04-01"
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")
_BAD_VARIABLE = re.compile(r"[\n\t]| {5,}")
_URL = re.compile(r"https?://[^\s/]+(/\S*)?", re.IGNORECASE)
BODY_LIMIT = 1600


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
        return twilio_error(401, 20003)
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


def _whatsapp(value: str) -> bool:
    return value.lower().startswith("whatsapp:")


def _check(account: TwilioAccount, fields: dict[str, str], media_urls: list[str],
           known_content: set[str]) -> web.Response | None:
    """Twilio's synchronous refusals, in the order Twilio reports them; None when the message is accepted."""
    to, sender, service = fields.get("To", ""), fields.get("From", ""), fields.get("MessagingServiceSid")
    if not to:
        return twilio_error(400, 21604)
    if not sender and not service:
        return twilio_error(400, 21603)
    if not _whatsapp(to) or (sender and not _whatsapp(sender)):
        return twilio_error(400, 21910, "Invalid From and To pair. From and To should be of the same channel "
                                        "(the simulator speaks only the whatsapp: channel)")
    if not _E164.fullmatch(_address(to)):
        return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if sender and _address(sender) not in account.senders:
        return twilio_error(400, 63007)
    content_sid, variables = fields.get("ContentSid"), fields.get("ContentVariables")
    if not (fields.get("Body") or media_urls or content_sid):
        return twilio_error(400, 21602)
    if variables is not None and not content_sid:
        return twilio_error(400, 21654)
    if content_sid and (not _CONTENT_SID.fullmatch(content_sid) or content_sid not in known_content):
        return twilio_error(400, 21655)
    if variables is not None and not _valid_variables(variables):
        return twilio_error(400, 21656)
    if len(fields.get("Body", "")) > BODY_LIMIT:
        return twilio_error(400, 21617)
    if any(not _URL.fullmatch(url) for url in media_urls):
        return twilio_error(400, 21620)
    callback = fields.get("StatusCallback")
    if callback is not None and not _URL.fullmatch(callback):
        return twilio_error(400, 21609)
    if _address(to) in account.opted_out:
        return twilio_error(400, 21610)
    return None


def _valid_variables(raw: str) -> bool:
    try:
        variables: Any = json.loads(raw)
    except ValueError:
        return False
    return isinstance(variables, dict) and all(
        isinstance(value, str) and value.strip() and not _BAD_VARIABLE.search(value) for value in variables.values())


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
    known = {t.id for t in state.templates if t.provider == TWILIO and t.owner == account.sid}
    refused = _check(account, fields, media_urls, known)
    if refused is not None:
        return refused
    sid = state.sid("MM" if media_urls else "SM")
    message = IssuedMessage(
        id=sid, provider=TWILIO, account_id=account.sid,
        sender=_address(fields.get("From", "")) or next(iter(sorted(account.senders)), ""),
        recipient=_address(fields["To"]), status_callback=fields.get("StatusCallback") or None,
        kind="template" if fields.get("ContentSid") else "media" if media_urls else "text")
    state.messages[sid] = message
    status_callbacks.after_send(request, message)
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
        return twilio_error(404, 20404)
    raise web.HTTPTemporaryRedirect(f"/twilio-cdn/{media.cdn_key}/{media.twilio_sid}")


async def get_cdn_media(request: web.Request) -> web.StreamResponse:
    media = next((m for m in state_of(request).media.values() if m.twilio_sid == request.match_info["media_sid"]),
                 None)
    if media is None or not secrets.compare_digest(media.cdn_key, request.match_info["key"]):
        return web.Response(status=403, text="AccessDenied")
    return await serve_media(request, media)
