"""The Meta Graph API as the simulator speaks it: WhatsApp Cloud (numbers, messages, media uploads, templates) and
the Instagram Send API, plus the two CDNs media URLs point at. Sends are checked in `whatsapp_api` and
`instagram_api`."""
from __future__ import annotations

import json
import re
import secrets
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from . import instagram_api, whatsapp_api
from . import status as status_callbacks
from ._shared import bearer_token, origin, serve_media, state_of
from .errors import graph_error
from .state import INSTAGRAM, WHATSAPP, MetaAccount, SimulatorState, Template

_VERSION = r"{version:v[0-9]+\.[0-9]+}"
_TEMPLATE_NAME = re.compile(r"[a-z0-9_]{1,512}")
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


def add_routes(app: web.Application) -> None:
    app.router.add_get(f"/{_VERSION}/{{object_id}}", get_object)
    app.router.add_post(f"/{_VERSION}/{{object_id}}/messages", send_message)
    app.router.add_post("/me/messages", send_message)
    app.router.add_post(f"/{_VERSION}/{{object_id}}/media", upload_media)
    app.router.add_post(f"/{_VERSION}/{{waba_id}}/message_templates", create_template)
    app.router.add_get("/media-download/{media_id}", download_media)
    app.router.add_get("/ig-cdn/{asset}", download_ig_asset)


def _invalid_token() -> web.Response:
    return graph_error(401, 190, "Invalid OAuth access token - Cannot parse access token")


def _no_object(object_id: str) -> web.Response:
    return graph_error(400, 100, f"Unsupported request. Object with ID '{object_id}' does not exist, cannot be "
                       "loaded due to missing permissions, or does not support this operation", subcode=33,
                       type_="GraphMethodException")


def _authorized(state: SimulatorState, request: web.Request, object_id: str) -> MetaAccount | web.Response:
    """The account `object_id` names, when the request's token is that account's."""
    mine = state.meta_by_token(bearer_token(request))
    if not mine:
        return _invalid_token()
    if object_id == "me":
        found = next((account for account in mine if account.provider == INSTAGRAM), None)
    else:
        found = next((account for account in mine if account.id == object_id), None)
    return found if found is not None else _no_object(object_id)


def _only(fields: dict[str, Any], request: web.Request) -> dict[str, Any]:
    wanted = {name.strip() for name in request.query.get("fields", "").split(",") if name.strip()}
    return {key: value for key, value in fields.items() if not wanted or key in wanted or key == "id"}


async def get_object(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    object_id = request.match_info["object_id"]
    media = state.media.get(object_id)
    if media is not None:
        mine = state.meta_by_token(bearer_token(request))
        if not mine:
            return _invalid_token()
        if not any(account.provider == WHATSAPP for account in mine):
            return _no_object(object_id)
        return web.json_response({
            "messaging_product": "whatsapp", "url": f"{origin(request)}/media-download/{media.id}",
            "mime_type": media.content_type, "sha256": media.sha256_hex, "file_size": len(media.data),
            "id": media.id})
    account = _authorized(state, request, object_id)
    if isinstance(account, web.Response):
        return account
    if account.provider == WHATSAPP:
        fields = {"id": account.id, "display_phone_number": account.display_phone_number,
                  "verified_name": "Simulated Business", "quality_rating": "GREEN"}
    else:
        fields = {"id": account.id, "username": account.username, "name": "Simulated Business"}
    return web.json_response(_only(fields, request))


async def _payload(request: web.Request) -> dict[str, Any] | None:
    """A JSON body, or form fields whose values may themselves be JSON (the Send API accepts both)."""
    raw = (await request.read()).decode("utf-8", "replace")
    if request.content_type == "application/x-www-form-urlencoded":
        found: dict[str, Any] = {}
        for name, value in parse_qsl(raw, keep_blank_values=True):
            try:
                found[name] = json.loads(value)
            except ValueError:
                found[name] = value
        return found
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def send_message(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    account = _authorized(state, request, request.match_info.get("object_id", "me"))
    if isinstance(account, web.Response):
        return account
    body = await _payload(request)
    if body is None:
        return graph_error(400, 100, "Invalid parameter: the body is not JSON")
    if account.provider == WHATSAPP:
        issued = whatsapp_api.send(state, account, body)
        if isinstance(issued, web.Response):
            return issued
        status_callbacks.after_send(request, issued)
        return whatsapp_api.answer(issued, body["to"])
    found = instagram_api.send(state, account, body)
    if isinstance(found, web.Response):
        return found
    status_callbacks.after_send(request, found)
    return instagram_api.answer(found)


async def upload_media(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    account = _authorized(state, request, request.match_info["object_id"])
    if isinstance(account, web.Response):
        return account
    if account.provider != WHATSAPP:
        return _no_object(account.id)
    return await whatsapp_api.upload(request, state, account)


async def create_template(request: web.Request) -> web.StreamResponse:
    """Meta's template creation: checked, kept as PENDING (see `/_sim/templates/status` to approve)."""
    state = state_of(request)
    waba_id = request.match_info["waba_id"]
    mine = state.meta_by_token(bearer_token(request))
    if not mine:
        return _invalid_token()
    if not any(account.provider == WHATSAPP and account.waba_id == waba_id for account in mine):
        return _no_object(waba_id)
    body = await _payload(request)
    if body is None or not all(isinstance(body.get(key), str) for key in ("name", "language", "category")):
        return graph_error(400, 100, "Invalid parameter: name, language and category are required")
    if not _TEMPLATE_NAME.fullmatch(body["name"]):
        return graph_error(400, 100, "Invalid parameter: name may only contain lowercase letters, digits and _")
    category = body["category"].upper()
    if category not in ("UTILITY", "MARKETING", "AUTHENTICATION"):
        return graph_error(400, 100, "Invalid parameter: category")
    if state.template(WHATSAPP, waba_id, body["name"], body["language"]) is not None:
        return graph_error(400, 100, "Invalid parameter: a template with this name and language already exists",
                           subcode=2388024)
    components = body.get("components") if isinstance(body.get("components"), list) else []
    texts = [c.get("text") for c in components if isinstance(c, dict) and str(c.get("type", "")).upper() == "BODY"]
    variables = len({name for text in texts if isinstance(text, str) for name in _VARIABLE.findall(text)})
    template = Template(id=state.numeric_id(), provider=WHATSAPP, owner=waba_id, name=body["name"],
                        language=body["language"], category=category, status="PENDING", variables=variables)
    state.templates.append(template)
    return web.json_response({"id": template.id, "status": template.status, "category": template.category})


async def download_media(request: web.Request) -> web.StreamResponse:
    """Meta's lookaside URL: needs the bearer token of a WhatsApp account."""
    state = state_of(request)
    if not any(account.provider == WHATSAPP for account in state.meta_by_token(bearer_token(request))):
        return _invalid_token()
    media = state.media.get(request.match_info["media_id"])
    if media is None:
        return web.Response(status=404, text="Not Found")
    return await serve_media(request, media)


async def download_ig_asset(request: web.Request) -> web.StreamResponse:
    """Instagram's CDN: pre-signed URLs, no token."""
    media = state_of(request).media.get(request.match_info["asset"])
    if media is None:
        return web.Response(status=404, text="Not Found")
    if not secrets.compare_digest(request.query.get("sig", ""), media.cdn_key):
        return web.Response(status=403, text="URL signature mismatch")
    return await serve_media(request, media)
