"""Who is calling and for which team: credentials first, then membership, before any team data."""
from __future__ import annotations

import uuid
from http.cookies import SimpleCookie
from typing import Any

from aiohttp import web

from ...domain.model.errors import InvalidInput, Unauthenticated
from ...domain.model.ids import TeamId
from ...domain.model.users import User
from ...domain.usecases.access import Actor, actor_in
from .keys import SESSION_COOKIE, cookies_key, services_key, user_key


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.cookies.get(SESSION_COOKIE) or None


def _required_token(request: web.Request) -> str:
    token = bearer_token(request)
    if token is None:
        raise Unauthenticated("sign in: send `Authorization: Bearer <token>` or the session cookie")
    return token


async def current_user(request: web.Request) -> User:
    if user_key in request:
        return request[user_key]
    user = await request.app[services_key].accounts.authenticate(_required_token(request))
    request[user_key] = user
    return user


async def current_actor(request: web.Request, team: str | None = None) -> Actor:
    """The signed-in user in the team named by `team` (when given: EventSource cannot send headers) or the
    x-team-id header, or in their only team. Credentials and memberships are read in one transaction."""
    if user_key in request:
        user, memberships = request[user_key], None
    else:
        user, memberships = await request.app[services_key].accounts.authenticate_member(_required_token(request))
        request[user_key] = user
    team_id = _team_id(*(("teamId", team) if team is not None else ("x-team-id", request.headers.get("x-team-id"))))
    if memberships is None:
        return await request.app[services_key].access.resolve(user.id, team_id)
    return actor_in(user.id, memberships, team_id)


def _team_id(name: str, value: str | None) -> TeamId | None:
    if value is None:
        return None
    try:
        return TeamId(str(uuid.UUID(value.strip())))
    except ValueError:
        raise InvalidInput.single(name, "must be a team id (a UUID)") from None


def set_cookie(request: web.Request, name: str, value: str, **options: Any) -> None:
    """Queue a cookie for the response (procedures return data; the app adds the cookies)."""
    request.setdefault(cookies_key, []).append({"name": name, "value": value, **options})


async def add_cookies(request: web.Request, response: web.StreamResponse) -> None:
    """Writes queued cookies as Set-Cookie headers (this hook runs after aiohttp rendered its own cookies)."""
    for cookie in request.get(cookies_key, []):
        jar: SimpleCookie = SimpleCookie()
        jar[cookie["name"]] = cookie["value"]
        morsel = jar[cookie["name"]]
        for option, value in cookie.items():
            if option not in ("name", "value") and value not in (None, False):
                morsel[option.replace("_", "-")] = value
        response.headers.add("Set-Cookie", morsel.OutputString())
