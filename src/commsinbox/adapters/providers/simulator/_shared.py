"""What the simulator's route modules share: app keys, request helpers and media serving (error answers are in
`errors.py`)."""
from __future__ import annotations

import asyncio
import base64
import binascii
import email.parser
import email.policy
import io
import json
from collections.abc import Coroutine
from typing import Any

import aiohttp
import attrs
from aiohttp import web

from .state import SimulatorState, StoredMedia

STATE = web.AppKey("simulator_state", SimulatorState)
CLIENT = web.AppKey("simulator_client", aiohttp.ClientSession)
TASKS = web.AppKey("simulator_tasks", set[asyncio.Task[None]])  # status callbacks under way (autoStatus)
_CHUNK = 64 * 1024


def state_of(request: web.Request) -> SimulatorState:
    return request.app[STATE]


def origin(request: web.Request) -> str:
    """The simulator's own base URL as the caller reached it (media URLs point back here)."""
    return str(request.url.origin())


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


def text_field(body: dict[str, Any], key: str, default: str | None = None) -> str | None:
    value = body.get(key, default)
    if value is not None and not isinstance(value, str):
        raise bad_request(f"{key} must be a string")
    return value


def texts_field(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise bad_request(f"{key} must be a list of strings")
    return value


def int_field(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise bad_request(f"{key} must be an integer")
    return value


def bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


@attrs.frozen
class Part:
    name: str | None
    filename: str | None
    content_type: str | None
    data: bytes = attrs.field(repr=lambda data: f"<{len(data)} bytes>")


def multipart_parts(request: web.Request, raw: bytes) -> list[Part]:
    """The parts of a `multipart/form-data` body already read (the request stream is consumed by the recorder, so
    the body is parsed from its bytes). Raises ValueError when it is not multipart."""
    header = request.headers.get("Content-Type", "")
    if not header.lower().startswith("multipart/"):
        raise ValueError("not multipart")
    parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + header.encode("latin-1") + b"\r\n\r\n" + raw)
    if not parsed.is_multipart():
        raise ValueError("malformed multipart body")
    parts = []
    for part in parsed.iter_parts():
        payload = part.get_payload(decode=True)
        declared = part.get("Content-Type")
        parts.append(Part(name=part.get_param("name", header="content-disposition"), filename=part.get_filename(),
                          content_type=str(declared) if declared else None,
                          data=payload if isinstance(payload, bytes) else b""))
    return parts


def spawn(app: web.Application, work: Coroutine[Any, Any, None]) -> None:
    """Runs `work` in the background; the app cancels what is left when it stops."""
    task = asyncio.get_running_loop().create_task(work)
    app[TASKS].add(task)
    task.add_done_callback(app[TASKS].discard)
