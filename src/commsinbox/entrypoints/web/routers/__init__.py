"""Procedure tables for /trpc, one module per router."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from aiohttp import web

from ..context import current_actor, current_user
from ..serialization import parse
from ..trpc import Procedure

Kind = Literal["query", "mutation", "subscription"]
Caller = Callable[[web.Request], Awaitable[Any]]


def _procedure(kind: Kind, input_cls: type | None, fn: Callable[..., Awaitable[Any]], caller: Caller | None
               ) -> Procedure:
    """Credentials (and membership) are checked before the input is structured and validated."""
    async def handler(request: web.Request, raw: Any) -> Any:
        who = [await caller(request)] if caller else []
        return await fn(request, *who, parse(input_cls, raw) if input_cls else None)

    return Procedure(kind, handler)


def public(kind: Kind, input_cls: type | None, fn: Callable[..., Awaitable[Any]]) -> Procedure:
    """fn(request, input)."""
    return _procedure(kind, input_cls, fn, None)


def signed_in(kind: Kind, input_cls: type | None, fn: Callable[..., Awaitable[Any]]) -> Procedure:
    """fn(request, user, input): needs valid credentials."""
    return _procedure(kind, input_cls, fn, current_user)


def in_team(kind: Kind, input_cls: type | None, fn: Callable[..., Awaitable[Any]]) -> Procedure:
    """fn(request, actor, input): needs credentials and a membership of the chosen team."""
    return _procedure(kind, input_cls, fn, current_actor)
