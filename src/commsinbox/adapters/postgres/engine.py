"""Async engines: the owner's (migrations, tests) and the application's, which runs as the RLS-bound role."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from .schema import APP_ROLE


def sqlalchemy_url(url: str) -> str:
    """`postgresql://…` (libpq style) → the `postgresql+psycopg://…` form SQLAlchemy needs."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def app_engine(url: str, *, set_role: bool, pool_size: int = 10) -> AsyncEngine:
    """An engine for the application. With `set_role`, every connection switches to the application role
    (for an owner URL); without, the URL must already log in as a role without BYPASSRLS. Statement parameters
    (message text, phone numbers) are kept out of error messages and logs."""
    engine = create_async_engine(sqlalchemy_url(url), pool_size=pool_size, max_overflow=pool_size,
                                 pool_pre_ping=True, hide_parameters=True)

    @sa.event.listens_for(engine.sync_engine, "connect")
    def _session_settings(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if set_role:
            cursor.execute(f"SET ROLE {APP_ROLE}")
        # JIT pays off for long analytical queries; for these short statements over unnest() arrays (whose size
        # the planner cannot see) it only burns CPU. A plain SET also works through transaction poolers.
        cursor.execute("SET jit = off")
        cursor.close()
        dbapi_connection.commit()

    return engine


def as_app_role_url(owner_url: str) -> str:
    """The same server and database, logging in as the application role (embedded server: trust on the socket)."""
    return make_url(sqlalchemy_url(owner_url)).set(username=APP_ROLE, password=None).render_as_string(
        hide_password=False)
