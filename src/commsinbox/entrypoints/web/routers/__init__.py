"""Procedure tables for /trpc, one module per router."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from aiohttp import web

from ....domain.usecases.access import Actor
from ..context import current_actor, current_user
from ..serialization import parse
from ..trpc import Procedure

I = TypeVar("I")  # noqa: E741


def public(kind: Literal["query", "mutation"], input_cls: type[I] | None,
           fn: Callable[[web.Request, I], Awaitable[Any]]) -> Procedure:
    async def handler(request: web.Request, raw: Any) -> Any:
        return await fn(request, parse(input_cls, raw) if input_cls else None)  # type: ignore[arg-type]

    return Procedure(kind, handler)


def signed_in(kind: Literal["query", "mutation"], input_cls: type[I] | None,
              fn: Callable[[web.Request, Any, I], Awaitable[Any]]) -> Procedure:
    """Needs valid credentials; the function gets the user."""
    async def handler(request: web.Request, raw: Any) -> Any:
        user = await current_user(request)
        return await fn(request, user, parse(input_cls, raw) if input_cls else None)  # type: ignore[arg-type]

    return Procedure(kind, handler)


def in_team(kind: Literal["query", "mutation"], input_cls: type[I] | None,
            fn: Callable[[web.Request, Actor, I], Awaitable[Any]]) -> Procedure:
    """Needs credentials and a membership of the chosen team; checked before the input is even read."""
    async def handler(request: web.Request, raw: Any) -> Any:
        actor = await current_actor(request)
        return await fn(request, actor, parse(input_cls, raw) if input_cls else None)  # type: ignore[arg-type]

    return Procedure(kind, handler)
