"""auth.login / logout / whoami / tokens.create."""
from __future__ import annotations

from typing import Any

import attrs
from aiohttp import web

from ....domain.model.users import User
from ...container import Services
from .. import views
from ..context import bearer_token, set_cookie
from ..keys import SESSION_COOKIE, services_key
from ..trpc import Procedure
from . import public, signed_in


@attrs.frozen
class LoginInput:
    email: str
    password: str = attrs.field(repr=False)


@attrs.frozen
class TokenInput:
    name: str


def _services(request: web.Request) -> Services:
    return request.app[services_key]


async def login(request: web.Request, inp: LoginInput) -> dict[str, Any]:
    result = await _services(request).accounts.login(inp.email, inp.password, request.remote or "unknown")
    set_cookie(request, SESSION_COOKIE, result.token, httponly=True, samesite="Lax", path="/",
               secure=request.secure, max_age=14 * 24 * 3600)
    return {"token": result.token, "user": views.user(result.user),
            "teams": [views.team_with_role(t, m) for t, m in result.teams]}


async def logout(request: web.Request, user: User, _: None) -> dict[str, Any]:
    token = bearer_token(request)
    if token:
        await _services(request).accounts.logout(token)
    set_cookie(request, SESSION_COOKIE, "", max_age=0, path="/")
    return {"ok": True}


async def whoami(request: web.Request, user: User, _: None) -> dict[str, Any]:
    teams = await _services(request).accounts.teams_of(user.id)
    chosen = request.headers.get("x-team-id")
    out: dict[str, Any] = {"user": views.user(user), "teams": [views.team_with_role(t, m) for t, m in teams]}
    picked = [(t, m) for t, m in teams if t.id == chosen] if chosen else teams if len(teams) == 1 else []
    if picked:
        out["team"] = views.team_with_role(*picked[0])
    return out


async def create_token(request: web.Request, user: User, inp: TokenInput) -> dict[str, Any]:
    token_id, token = await _services(request).accounts.create_api_token(user.id, inp.name)
    return {"id": token_id, "token": token}


PROCEDURES: dict[str, Procedure] = {
    "auth.login": public("mutation", LoginInput, login),
    "auth.logout": signed_in("mutation", None, logout),
    "auth.whoami": signed_in("query", None, whoami),
    "auth.tokens.create": signed_in("mutation", TokenInput, create_token),
}
