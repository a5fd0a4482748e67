"""The aiohttp application: /health, /health/db, /metrics, /trpc and the provider webhooks."""
from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.typedefs import Handler

from ..config import Settings
from ..container import Services, postgres_services
from . import errors
from .context import add_cookies
from .keys import services_key, settings_key
from .routers import audit, auth, communications, consent, core, inbox, live, messages, templates
from .background import background
from .metrics import Metrics, metrics_key, metrics_view
from .trpc import add_trpc_routes
from .webhooks import add_webhook_routes
from .worker import job_worker

log = logging.getLogger("commsinbox.web")

PROCEDURES = {**auth.PROCEDURES, **core.PROCEDURES, **communications.PROCEDURES, **inbox.PROCEDURES,
              **live.PROCEDURES, **messages.PROCEDURES, **templates.PROCEDURES, **consent.PROCEDURES,
              **audit.PROCEDURES}
MAX_BODY_BYTES = 48 * 1024 * 1024  # a 25 MiB vault upload in base64 inside JSON fits


@web.middleware
async def access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One JSON line per request: method, path (never the query: tRPC inputs travel there), status, time."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        log.info("request", extra={"method": request.method, "path": request.path, "status": status,
                                   "ms": round((time.perf_counter() - started) * 1000, 1)})


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def health_db(request: web.Request) -> web.Response:
    if await request.app[services_key].database.ping():
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "unavailable"}, status=503)


def create_app(settings: Settings, services: Services | None = None, *, owner: str | None = None,
               run_worker: bool | None = None) -> web.Application:
    """The app; with no `services`, PostgreSQL services are opened on start-up and closed on clean-up (on the
    database `owner` has already migrated, if given). `run_worker` runs the job worker in the app; by default it
    does when the app opens its own services (`serve`), not when it is given some (tests)."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[access_log])
    app[settings_key] = settings
    if services is not None:
        app[services_key] = services
    else:
        async def database(app: web.Application) -> AsyncIterator[None]:
            async with postgres_services(settings, owner=owner, migrate_first=owner is None) as opened:
                app[services_key] = opened
                yield

        app.cleanup_ctx.append(database)
    app.cleanup_ctx.append(background)
    if run_worker is None:
        run_worker = services is None
    if run_worker:
        app.cleanup_ctx.append(job_worker)
    app[metrics_key] = Metrics.create()
    app.on_response_prepare.append(add_cookies)
    app.router.add_get("/health", health)
    app.router.add_get("/health/db", health_db)
    app.router.add_get("/metrics", metrics_view)
    add_webhook_routes(app)
    add_trpc_routes(app, PROCEDURES, map_error=errors.to_trpc, max_body_bytes=MAX_BODY_BYTES)
    return app
