"""The provider simulator: one aiohttp app that answers at the real APIs' paths (so a gateway only changes its base
URL), records every provider request, injects faults, and sends signed webhooks to commsinbox.

Routes:
* Twilio: `GET /2010-04-01/Accounts/{sid}.json`, `POST /2010-04-01/Accounts/{sid}/Messages.json`,
  `GET /2010-04-01/Accounts/{sid}/Messages/{msid}/Media/{mid}` (→ 307 to `/twilio-cdn/{key}/{mid}`).
* Meta Graph: `GET /{version}/{id}` (phone number, IG account or media), `POST /{version}/{id}/messages`,
  `POST /{version}/me/messages`, `POST /me/messages`, `POST /{version}/{phone_number_id}/media`,
  `POST /{version}/{waba_id}/message_templates`, `GET /media-download/{media_id}` (bearer),
  `GET /ig-cdn/{asset}?sig=…` (pre-signed).
* Control: `POST /_sim/accounts|media|faults|inbound|status|templates|templates/status|settings|reset`,
  `GET /_sim/requests|templates|settings|deliveries`.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

from . import control, graph_api, twilio_api
from ._shared import CLIENT, STATE, TASKS, multipart_parts
from .errors import fault_response
from .state import INSTAGRAM, RecordedRequest, SimulatorState

__all__ = ["create_simulator_app", "run_simulator"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY = 64 * 1024 * 1024  # media registrations carry the bytes


def _redacted_headers(request: web.Request) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        if name.lower() in ("authorization", "proxy-authorization"):
            value = value.partition(" ")[0]  # the scheme only: "Basic", "Bearer"
        headers[name] = value
    return headers


async def _record(request: web.Request, state: SimulatorState) -> None:
    raw = await request.read()
    recorded = RecordedRequest(
        method=request.method, path=request.path,
        query={key: ("<redacted>" if key == "access_token" else value) for key, value in request.query.items()},
        headers=_redacted_headers(request), at=state.clock.now(), body_size=len(raw), seq=len(state.requests) + 1)
    text = raw.decode("utf-8", "replace")
    if request.content_type == "application/x-www-form-urlencoded":
        recorded.form = parse_qsl(text, keep_blank_values=True)
    elif request.content_type.startswith("multipart/"):
        recorded.multipart = _parts(request, raw)
    elif raw:
        try:
            recorded.json = json.loads(text)
        except ValueError:
            recorded.json = None
    state.requests.append(recorded)


def _parts(request: web.Request, raw: bytes) -> list[dict[str, Any]]:
    """A multipart body's parts: files by name, type and size only."""
    try:
        parts = multipart_parts(request, raw)
    except ValueError:
        return [{"error": "malformed multipart body"}]
    return [{"name": p.name, "filename": p.filename, "contentType": p.content_type, "size": len(p.data)}
            if p.filename is not None else {"name": p.name, "value": p.data.decode("utf-8", "replace")}
            for p in parts]


@web.middleware
async def record_and_fault(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every provider request is recorded (control calls are not); an injected fault answers instead of the API
    (or, with `process`, after it)."""
    if request.path.startswith("/_sim/"):
        return await handler(request)
    state = request.app[STATE]
    await _record(request, state)
    fault = state.take_fault(request.method, request.path)
    if fault is None:
        return await handler(request)
    answer = await handler(request) if fault.process else None
    if fault.delay:
        await asyncio.sleep(fault.delay)
    if fault.disconnect:
        if request.transport is not None:
            request.transport.abort()  # the request was read; no answer ever comes
        return web.Response(status=204)  # never written: the connection is gone
    if answer is not None and fault.status is None and fault.code is None and fault.body is None:
        return answer
    instagram = request.path.startswith(("/me/", "/v")) and _is_instagram(state, request.path)
    return fault_response(request.path, fault.status, fault.body, code=fault.code, subcode=fault.subcode,
                          message=fault.message, instagram=instagram)


def _is_instagram(state: SimulatorState, path: str) -> bool:
    parts = path.strip("/").split("/")
    object_id = parts[1] if len(parts) > 1 and parts[0].startswith("v") else parts[0]
    account = state.meta.get(object_id)
    return object_id == "me" or (account is not None and account.provider == INSTAGRAM)


def create_simulator_app(state: SimulatorState) -> web.Application:
    app = web.Application(middlewares=[record_and_fault], client_max_size=MAX_BODY)
    app[STATE] = state
    app[TASKS] = set()

    async def client(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as session:
            app[CLIENT] = session
            yield
            pending = list(app[TASKS])
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    app.cleanup_ctx.append(client)
    control.add_routes(app)
    twilio_api.add_routes(app)
    graph_api.add_routes(app)
    return app


def run_simulator(port: int, target: str, *, host: str = "127.0.0.1",
                  state: SimulatorState | None = None) -> None:
    """Serves the simulator until interrupted (blocking; for `commsinbox simulator`). `target` is the base URL of
    the commsinbox server that receives the webhooks (its PUBLIC_BASE_URL)."""
    state = state or SimulatorState()
    state.target = target.rstrip("/")
    web.run_app(create_simulator_app(state), host=host, port=port, print=None, access_log=None)
