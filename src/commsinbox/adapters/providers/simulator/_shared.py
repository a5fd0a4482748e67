"""What the simulator's route modules share: app keys, provider-shaped error answers and media serving."""
from __future__ import annotations

import base64
import binascii
import io
import json
from typing import Any

import aiohttp
from aiohttp import web

from .state import SimulatorState, StoredMedia

STATE = web.AppKey("simulator_state", SimulatorState)
CLIENT = web.AppKey("simulator_client", aiohttp.ClientSession)
TWILIO_API_PREFIX = "/2010-04-01/"
_CHUNK = 64 * 1024


def state_of(request: web.Request) -> SimulatorState:
    return request.app[STATE]


def origin(request: web.Request) -> str:
    """The simulator's own base URL as the caller reached it (media URLs point back here)."""
    return str(request.url.origin())


def twilio_error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message,
                              "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
                             status=status)


def graph_error(status: int, code: int, message: str, *, subcode: int | None = None,
                type_: str = "OAuthException") -> web.Response:
    error: dict[str, Any] = {"message": f"(#{code}) {message}", "type": type_, "code": code,
                             "fbtrace_id": "SIMULATOR"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return web.json_response({"error": error}, status=status)


def fault_response(path: str, status: int, body: Any) -> web.Response:
    """An injected failure, shaped like the provider's own error for that status unless `body` says otherwise."""
    if body is not None:
        return web.json_response(body, status=status)
    if path.startswith(TWILIO_API_PREFIX):
        code = {401: 20003, 404: 20404, 429: 20429}.get(status, 20500 if status >= 500 else 21000)
        return twilio_error(status, code, "Injected failure")
    if path.startswith(("/ig-cdn/", "/twilio-cdn/", "/media-download/")):
        return web.Response(status=status, text="injected failure")
    code = {401: 190, 403: 10, 429: 4}.get(status, 2 if status >= 500 else 100)
    return graph_error(status, code, "Injected failure")


def bearer_token(request: web.Request) -> str | None:
    """`Authorization: Bearer …`, or Graph's `access_token` query parameter."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.query.get("access_token") or None


def basic_credentials(request: web.Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, separator, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if separator else None


async def serve_media(request: web.Request, media: StoredMedia) -> web.StreamResponse:
    headers = {"Content-Type": media.content_type}
    if not media.chunked:
        return web.Response(body=io.BytesIO(media.data), headers=headers)  # streamed, with Content-Length
    response = web.StreamResponse(headers=headers)
    response.enable_chunked_encoding()
    await response.prepare(request)
    for start in range(0, len(media.data), _CHUNK):
        await response.write(media.data[start:start + _CHUNK])
    await response.write_eof()
    return response


async def json_body(request: web.Request) -> dict[str, Any]:
    """The JSON object a control call sent; an empty body is {}. Raises HTTPBadRequest otherwise."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("the body is not JSON") from None
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    return body


def bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")
