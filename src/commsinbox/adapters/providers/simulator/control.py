"""The control API under `/_sim/` that tests, benchmarks and the demo drive the simulator with (JSON in, JSON out):
accounts, media, recorded requests, faults, inbound webhooks and reset here; the outbound side (status callbacks,
templates, settings, deliveries) in `control_outbound`."""
from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any

from aiohttp import web

from . import control_outbound, deliver
from ._shared import CLIENT, bad_request, json_body, origin, state_of
from ._shared import int_field as _int
from ._shared import text_field as _text
from ._shared import texts_field as _texts
from .state import INSTAGRAM, TWILIO, WHATSAPP, Fault, MetaAccount, SimulatorState, StoredMedia, TwilioAccount


def add_routes(app: web.Application) -> None:
    app.router.add_post("/_sim/accounts", register_account)
    app.router.add_post("/_sim/media", register_media)
    app.router.add_get("/_sim/requests", list_requests)
    app.router.add_post("/_sim/faults", add_fault)
    app.router.add_post("/_sim/inbound", send_inbound)
    app.router.add_post("/_sim/reset", reset)
    control_outbound.add_routes(app)


async def register_account(request: web.Request) -> web.Response:
    state, body = state_of(request), await json_body(request)
    provider = body.get("provider")
    if provider == TWILIO:
        sid = _text(body, "accountSid") or state.sid("AC")
        account = TwilioAccount(sid=sid, token=_text(body, "authToken") or secrets.token_hex(16),
                                senders=set(_texts(body, "senders")), opted_out=set(_texts(body, "optedOut")))
        state.twilio[sid] = account
        return web.json_response({"provider": provider, "accountSid": sid, "authToken": account.token,
                                  "senders": sorted(account.senders), "optedOut": sorted(account.opted_out)})
    if provider in (WHATSAPP, INSTAGRAM):
        key = "phoneNumberId" if provider == WHATSAPP else "igId"
        meta = MetaAccount(
            provider=provider, id=_text(body, key) or state.numeric_id(),
            token=_text(body, "accessToken") or "EAA" + secrets.token_urlsafe(24),
            app_secret=_text(body, "appSecret") or secrets.token_hex(16), waba_id=_text(body, "wabaId"),
            display_phone_number=_text(body, "displayPhoneNumber"), username=_text(body, "username"))
        state.meta[meta.id] = meta
        return web.json_response({"provider": provider, key: meta.id, "accessToken": meta.token,
                                  "appSecret": meta.app_secret, "wabaId": meta.waba_id,
                                  "displayPhoneNumber": meta.display_phone_number, "username": meta.username})
    raise bad_request(f"provider must be one of {TWILIO}, {WHATSAPP}, {INSTAGRAM}")


async def register_media(request: web.Request) -> web.Response:
    """JSON `{contentBase64, contentType, chunked?, sha256?, accountSid?}`, or the raw bytes with their Content-Type
    (`?chunked=1` to serve them without Content-Length)."""
    state = state_of(request)
    if request.content_type == "application/json":
        body = await json_body(request)
        try:
            data = base64.b64decode(_text(body, "contentBase64") or "", validate=True)
        except binascii.Error:
            raise bad_request("contentBase64 is not base64") from None
        content_type = _text(body, "contentType") or "application/octet-stream"
        chunked, announced, account_sid = bool(body.get("chunked")), _text(body, "sha256"), _text(body, "accountSid")
    else:
        data = await request.read()
        content_type = request.headers.get("Content-Type") or "application/octet-stream"
        chunked, announced = request.query.get("chunked") in ("1", "true"), request.query.get("sha256")
        account_sid = request.query.get("accountSid")
    media = StoredMedia(id=state.numeric_id(), data=data, content_type=content_type, twilio_sid=state.sid("ME"),
                        cdn_key=secrets.token_urlsafe(16), announced_sha256=announced, chunked=chunked)
    state.media[media.id] = media
    base = origin(request)
    urls = {"graph": f"{base}/v23.0/{media.id}", "download": f"{base}/media-download/{media.id}",
            "instagram": f"{base}/ig-cdn/{media.id}?sig={media.cdn_key}"}
    twilio = state.twilio_for(sid=account_sid)
    if twilio is not None:
        urls["twilio"] = f"{base}/2010-04-01/Accounts/{twilio.sid}/Messages/{state.sid('MM')}/Media/{media.twilio_sid}"
    return web.json_response({"id": media.id, "contentType": content_type, "size": len(data),
                              "sha256": media.sha256_hex, "sha256Base64": media.sha256_base64, "urls": urls})


async def list_requests(request: web.Request) -> web.Response:
    prefix, method = request.query.get("prefix", ""), request.query.get("method", "").upper()
    found = [recorded.as_json() for recorded in state_of(request).requests
             if recorded.path.startswith(prefix) and (not method or recorded.method == method)]
    return web.json_response({"requests": found})


async def add_fault(request: web.Request) -> web.Response:
    """`{path_prefix, status?, code?, subcode?, message?, body?, count?, delaySeconds?, method?, disconnect?,
    process?}`: see docs/simulator.md."""
    state, body = state_of(request), await json_body(request)
    prefix = _text(body, "path_prefix") or _text(body, "pathPrefix")
    status, count, delay = _int(body, "status"), body.get("count", 1), body.get("delaySeconds", 0)
    code, subcode, method = _int(body, "code"), _int(body, "subcode"), _text(body, "method")
    disconnect, process = bool(body.get("disconnect")), bool(body.get("process"))
    if not prefix or not prefix.startswith("/"):
        raise bad_request("path_prefix must be a path starting with /")
    if status is None and code is None and body.get("body") is None and not disconnect and not process:
        raise bad_request("give status, code, body, disconnect or process")
    if (status is not None and not 100 <= status <= 599) or not isinstance(count, int) or count < 1:
        raise bad_request("status must be an HTTP status and count a positive integer")
    if not isinstance(delay, (int, float)) or delay < 0:
        raise bad_request("delaySeconds must be a non-negative number")
    state.faults.append(Fault(path_prefix=prefix, status=status, remaining=count, body=body.get("body"),
                              delay=float(delay), code=code, subcode=subcode, message=_text(body, "message"),
                              method=method.upper() if method else None, disconnect=disconnect, process=process))
    return web.json_response({"faults": len([f for f in state.faults if f.remaining > 0])})


def _target(state: SimulatorState, body: dict[str, Any], provider: str, default: str | None = None) -> str:
    explicit = _text(body, "url")
    if explicit:
        return explicit
    if default and not _text(body, "target"):
        return default
    return (_text(body, "target") or state.target).rstrip("/") + deliver.WEBHOOK_PATHS[provider]


def _media(state: SimulatorState, body: dict[str, Any]) -> list[StoredMedia]:
    found = []
    for media_id in _texts(body, "media"):
        if media_id not in state.media:
            raise bad_request(f"media {media_id} is not registered (POST /_sim/media first)")
        found.append(state.media[media_id])
    return found


def _meta_account(state: SimulatorState, provider: str, account_id: str | None) -> MetaAccount:
    candidates = [a for a in state.meta.values() if a.provider == provider and (account_id in (None, a.id))]
    if len(candidates) != 1:
        raise bad_request(f"name the {provider} account to use with 'to' (registered: {len(candidates)})")
    return candidates[0]


async def send_inbound(request: web.Request) -> web.Response:
    """Builds a provider-shaped inbound webhook, signs it and (unless `deliver: false`) POSTs it to the target."""
    state, body = state_of(request), await json_body(request)
    provider, base = body.get("provider"), origin(request)
    count = body.get("count", 1)
    if not isinstance(count, int) or not 1 <= count <= 1000:
        raise bad_request("count must be an integer from 1 to 1000")
    media, text = _media(state, body), _text(body, "text")
    texts = _texts(body, "texts") or ([] if text is None else
                                      [text] if count == 1 else [f"{text} #{i + 1}" for i in range(count)])
    if not texts and not media:
        raise bad_request("give text, texts or media")
    name = _text(body, "profileName", "Simulated Customer") or ""
    if provider == TWILIO:
        account = state.twilio_for(sender=_text(body, "to"), sid=_text(body, "accountSid"))
        business = _text(body, "to") or (sorted(account.senders)[0] if account and account.senders else None)
        if account is None or business is None:
            raise bad_request("name a registered Twilio sender with 'to' (or accountSid + to)")
        if len(texts) > 1:
            raise bad_request("Twilio sends one message per webhook; send several requests")
        params = deliver.twilio_inbound(state, base, account, customer=_text(body, "from") or "+15550001234",
                                        business=business, text=texts[0] if texts else "", media=media,
                                        profile_name=name)
        webhook = deliver.twilio_webhook(_target(state, body, provider), account, params)
        ids = [dict(params)["MessageSid"]]
    elif provider in (WHATSAPP, INSTAGRAM):
        meta = _meta_account(state, provider, _text(body, "to"))
        if provider == WHATSAPP:
            payload = deliver.whatsapp_inbound(state, base, meta, customer=_text(body, "from") or "15550001234",
                                               texts=texts, media=media, profile_name=name,
                                               with_url=bool(body.get("mediaUrl")))
            ids = [m["id"] for m in payload["entry"][0]["changes"][0]["value"]["messages"]]
        else:
            payload = deliver.instagram_inbound(state, base, meta, customer=_text(body, "from") or "9000000000000001",
                                                texts=texts, media=media)
            ids = [item["message"]["mid"] for item in payload["entry"][0]["messaging"]]
        webhook = deliver.meta_webhook(_target(state, body, provider), meta, payload)
    else:
        raise bad_request(f"provider must be one of {TWILIO}, {WHATSAPP}, {INSTAGRAM}")
    return web.json_response(await _send(request, webhook, body) | {"provider": provider, "messageIds": ids})


async def _send(request: web.Request, webhook: deliver.Webhook, body: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {"url": webhook.url, "payload": webhook.payload, "headers": webhook.headers}
    if body.get("deliver", True) is False:
        return answer | {"httpStatus": None, "delivered": False}
    outcome = await deliver.post(request.app[CLIENT], webhook, state=state_of(request), note={"kind": "inbound"})
    return answer | outcome | {"delivered": True}


async def reset(request: web.Request) -> web.Response:
    body = await json_body(request)
    state_of(request).reset(keep_accounts=bool(body.get("keepAccounts")))
    return web.json_response({"ok": True})
