"""Provider webhooks: verify, store the raw body durably, ingest it in the same request (a failure is kept on the
stored event and retried by the background loop), answer, then download media in the background.
Missing or bad signature → 401/403 and nothing stored; a verified but malformed body → 400, nothing stored."""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from ...adapters.providers import meta_signature
from ...adapters.providers.meta_instagram import webhook as instagram
from ...adapters.providers.meta_whatsapp import webhook as whatsapp
from ...adapters.providers.twilio_whatsapp import signature as twilio_signature
from ...adapters.providers.twilio_whatsapp import webhook as twilio
from ...domain.model.channels import Provider
from ...domain.model.inbound import InboundEvent
from ...domain.usecases.ingest import route_key, waba_key
from ..container import TWILIO_WEBHOOK_PATH, Services
from .background import run_in_background
from .keys import services_key, settings_key
from .metrics import metrics_key

log = logging.getLogger("commsinbox.webhooks")
MAX_WEBHOOK_BYTES = 3 * 1024 * 1024  # Meta's documented ceiling; Twilio's bodies are far smaller
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


async def _body(request: web.Request, provider: Provider) -> bytes:
    """The raw body, refused before it is read (or as soon as it grows) past the limit."""
    if request.content_length is not None and request.content_length > MAX_WEBHOOK_BYTES:
        raise _refuse(request, provider, "too_large", web.HTTPRequestEntityTooLarge(
            max_size=MAX_WEBHOOK_BYTES, actual_size=request.content_length))
    chunks, size = [], 0
    while chunk := await request.content.read(64 * 1024):  # read() returns what has arrived: loop to the end
        size += len(chunk)
        if size > MAX_WEBHOOK_BYTES:
            raise _refuse(request, provider, "too_large", web.HTTPRequestEntityTooLarge(
                max_size=MAX_WEBHOOK_BYTES, actual_size=size))
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse(request: web.Request, provider: Provider, outcome: str, error: web.HTTPException) -> web.HTTPException:
    request.app[metrics_key].webhooks.labels(provider.value, outcome).inc()
    log.warning("webhook refused", extra={"provider": provider.value, "outcome": outcome,
                                          "remote": request.remote, "path": request.path})
    return error


async def _accept(request: web.Request, provider: Provider, event_key: str, body: bytes,
                  events: list[InboundEvent]) -> None:
    """Stores the verified body, then ingests its events; media downloads continue in the background.
    If ingesting fails now, the stored event is retried by the background loop."""
    services: Services = request.app[services_key]
    result = await services.inbound.accept(provider, event_key, request.content_type, body, events)
    request.app[metrics_key].webhooks.labels(provider.value, "duplicate" if result is None else "stored").inc()
    if result is not None and result.with_media:
        run_in_background(request.app, services.media.fetch(result.with_media))


# -- Twilio ----------------------------------------------------------------------------------------------------

async def twilio_whatsapp(request: web.Request) -> web.Response:
    provider = Provider.WHATSAPP_TWILIO
    body = await _body(request, provider)
    signature = request.headers.get("X-Twilio-Signature")
    if not signature:
        raise _refuse(request, provider, "missing_signature", web.HTTPUnauthorized(text="X-Twilio-Signature missing"))
    try:
        params = twilio.parse_form(body)
        key = twilio.account_key(params)
    except ValueError as exc:
        raise _refuse(request, provider, "malformed", web.HTTPBadRequest(text=f"malformed webhook: {exc}"))
    url = twilio_signature.public_url(request.app[settings_key].public_base_url, request.path_qs)
    tokens = await _twilio_tokens(request, key)
    if not any(twilio_signature.is_valid(signature, url, params, token, raw_body=body) for token in tokens):
        raise _refuse(request, provider, "bad_signature", web.HTTPForbidden(text="signature does not match"))
    try:
        events = twilio.parse(params, request.app[services_key].clock.now())
    except ValueError as exc:
        raise _refuse(request, provider, "malformed", web.HTTPBadRequest(text=f"malformed webhook: {exc}"))
    fields = dict(params)
    event_key = ":".join((fields.get("MessageSid", ""), fields.get("MessageStatus") or "message",
                          fields.get("EventType", ""))) if events else hashlib.sha256(body).hexdigest()
    await _accept(request, provider, event_key, body, events)
    return web.Response(text=TWIML_EMPTY, content_type="text/xml")


async def _twilio_tokens(request: web.Request, account_key: str) -> list[str]:
    """The addressed account's auth token, and the deployment's default one (for accounts not yet connected)."""
    credentials = await request.app[services_key].connections.credentials_for(Provider.WHATSAPP_TWILIO, account_key)
    default = request.app[settings_key].twilio_auth_token
    return [t for t in ((credentials or {}).get("authToken"), default.reveal() if default else None) if t]


# -- Meta (WhatsApp Cloud and Instagram) -----------------------------------------------------------------------

async def meta_challenge(request: web.Request) -> web.Response:
    token = request.app[settings_key].meta_verify_token
    challenge = meta_signature.verify_challenge(request.query, token.reveal()) if token else None
    if challenge is None:
        raise web.HTTPForbidden(text="verify token does not match")
    return web.Response(text=challenge, content_type="text/plain")


def _meta_handler(provider: Provider, parse: Any, keys: Any) -> Any:
    async def handle(request: web.Request) -> web.Response:
        body = await _body(request, provider)
        header = request.headers.get(meta_signature.SIGNATURE_HEADER)
        if not header:
            raise _refuse(request, provider, "missing_signature",
                          web.HTTPUnauthorized(text=f"{meta_signature.SIGNATURE_HEADER} missing"))
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            payload = None
        signer = await _meta_signer(request, provider, header, body, keys(payload) if isinstance(payload, dict) else [])
        if signer is None:
            raise _refuse(request, provider, "bad_signature", web.HTTPForbidden(text="signature does not match"))
        try:
            if not isinstance(payload, dict):
                raise ValueError("body is not a JSON object")
            events = parse(payload)
        except ValueError as exc:
            raise _refuse(request, provider, "malformed", web.HTTPBadRequest(text=f"malformed webhook: {exc}"))
        if signer:  # an account's own secret vouches for that account's events only, never another team's
            foreign = [e for e in events if route_key(e)[1] != signer]
            if foreign:
                log.warning("webhook signed by one account carried events for others; those were dropped",
                            extra={"provider": provider.value, "dropped": len(foreign)})
            events = [e for e in events if route_key(e)[1] == signer]
        await _accept(request, provider, hashlib.sha256(body).hexdigest(), body, events)
        return web.json_response({"status": "ok"})

    return handle


MAX_ACCOUNT_SECRETS = 5  # account secrets tried for one unverified body: bounds the work a stranger can cause


async def _meta_signer(request: web.Request, provider: Provider, header: str, body: bytes,
                       account_keys: Iterable[str]) -> str | None:
    """Who signed: "" for the app's META_APP_SECRET, an account key for that account's own `appSecret`, or
    None when nobody we know did."""
    default = request.app[settings_key].meta_app_secret
    if default and meta_signature.is_valid(header, body, default.reveal()):
        return ""
    for key in list(dict.fromkeys(account_keys))[:MAX_ACCOUNT_SECRETS]:
        credentials = await request.app[services_key].connections.credentials_for(provider, key)
        if credentials and credentials.get("appSecret") and meta_signature.is_valid(
                header, body, credentials["appSecret"]):
            return key
    return None


def _whatsapp_keys(payload: dict[str, Any]) -> list[str]:
    """The phone number ids of message changes, and the WABA (`waba:<entry.id>`) of template status changes."""
    return [waba_key(str(entry.get("id", ""))) if change.get("field") == "message_template_status_update"
            else str(change.get("value", {}).get("metadata", {}).get("phone_number_id", ""))
            for entry in payload.get("entry", []) if isinstance(entry, dict)
            for change in entry.get("changes", []) if isinstance(change, dict) and isinstance(change.get("value"), dict)]


def _instagram_keys(payload: dict[str, Any]) -> list[str]:
    return [str(entry.get("id", "")) for entry in payload.get("entry", []) if isinstance(entry, dict)]


meta_whatsapp = _meta_handler(Provider.WHATSAPP_META, whatsapp.parse, _whatsapp_keys)
meta_instagram = _meta_handler(Provider.INSTAGRAM_META, instagram.parse, _instagram_keys)


def add_webhook_routes(app: web.Application) -> None:
    app.router.add_post(TWILIO_WEBHOOK_PATH, twilio_whatsapp)
    app.router.add_get("/webhooks/meta/whatsapp", meta_challenge)
    app.router.add_post("/webhooks/meta/whatsapp", meta_whatsapp)
    app.router.add_get("/webhooks/meta/instagram", meta_challenge)
    app.router.add_post("/webhooks/meta/instagram", meta_instagram)
