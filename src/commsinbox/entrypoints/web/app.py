"""The aiohttp application: /health, /health/db, /trpc (and, in later capabilities, webhooks and the UI)."""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from ..config import Settings
from ..container import Services, postgres_services
from . import errors
from .context import add_cookies
from .keys import services_key, settings_key
from .routers import auth, core
from .trpc import add_trpc_routes

log = logging.getLogger("commsinbox.web")

PROCEDURES = {**auth.PROCEDURES, **core.PROCEDURES}
MAX_BODY_BYTES = 48 * 1024 * 1024  # a 25 MiB vault upload in base64 inside JSON fits


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def health_db(request: web.Request) -> web.Response:
    if await request.app[services_key].database.ping():
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "unavailable"}, status=503)


def create_app(settings: Settings, services: Services | None = None) -> web.Application:
    """The app; with no `services`, PostgreSQL services are opened on start-up and closed on clean-up."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[settings_key] = settings
    if services is not None:
        app[services_key] = services
    else:
        async def database(app: web.Application) -> AsyncIterator[None]:
            async with postgres_services(settings) as opened:
                app[services_key] = opened
                yield

        app.cleanup_ctx.append(database)
    app.on_response_prepare.append(add_cookies)
    app.router.add_get("/health", health)
    app.router.add_get("/health/db", health_db)
    add_trpc_routes(app, PROCEDURES, map_error=errors.to_trpc, max_body_bytes=MAX_BODY_BYTES)
    return app
