"""The provider simulator: one aiohttp app that answers at the real APIs' paths (so a gateway only changes its base
URL), records every provider request, injects faults, and sends signed webhooks to commsinbox.

Routes:
* Twilio: `GET /2010-04-01/Accounts/{sid}.json`, `POST /2010-04-01/Accounts/{sid}/Messages.json`,
  `GET /2010-04-01/Accounts/{sid}/Messages/{msid}/Media/{mid}` (→ 307 to `/twilio-cdn/{key}/{mid}`).
* Meta Graph: `GET /{version}/{id}` (phone number, IG account or media), `POST /{version}/{id}/messages`,
  `POST /{version}/me/messages`, `POST /me/messages`, `POST /{version}/{waba_id}/message_templates`,
  `GET /media-download/{media_id}` (bearer), `GET /ig-cdn/{asset}?sig=…` (pre-signed).
* Control: `POST /_sim/accounts|media|faults|inbound|status|reset`, `GET /_sim/requests`.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

from . import control, graph_api, twilio_api
from ._shared import CLIENT, STATE, fault_response
from .state import RecordedRequest, SimulatorState

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
        headers=_redacted_headers(request), at=state.clock.now(), body_size=len(raw))
    text = raw.decode("utf-8", "replace")
    if request.content_type == "application/x-www-form-urlencoded":
        recorded.form = parse_qsl(text, keep_blank_values=True)
    elif raw:
        try:
            recorded.json = json.loads(text)
        except ValueError:
            recorded.json = None
    state.requests.append(recorded)


@web.middleware
async def record_and_fault(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every provider request is recorded (control calls are not); an injected fault answers instead of the API."""
    if request.path.startswith("/_sim/"):
        return await handler(request)
    state = request.app[STATE]
    await _record(request, state)
    fault = state.take_fault(request.path)
    if fault is not None:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        return fault_response(request.path, fault.status, fault.body)
    return await handler(request)


def create_simulator_app(state: SimulatorState) -> web.Application:
    app = web.Application(middlewares=[record_and_fault], client_max_size=MAX_BODY)
    app[STATE] = state

    async def client(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as session:
            app[CLIENT] = session
            yield

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
