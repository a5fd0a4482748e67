"""communications.accounts.*: connect and manage a team's WhatsApp and Instagram accounts."""
from __future__ import annotations

from typing import Any

import attrs
from aiohttp import web

from ....domain.model.accounts import CommunicationAccount
from ....domain.policies.rate_caps import DEFAULT_CAPS
from ....domain.usecases.access import Actor
from ....domain.usecases.connections import Connect
from ..keys import services_key
from ..trpc import Procedure
from . import in_team
from .core import IdInput, ident


@attrs.frozen
class ConnectInput:
    provider: str
    displayName: str  # noqa: N815
    externalId: str  # noqa: N815
    credentials: dict[str, Any] = attrs.field(repr=False)
    settings: dict[str, Any] | None = None
    verify: bool = True


@attrs.frozen
class RateCapInput:
    id: str
    perSecond: Any  # noqa: N815 — checked by the use case, which names the field
    burst: Any = 1


@attrs.frozen
class RotateInput:
    id: str
    credentials: dict[str, Any] = attrs.field(repr=False)


def view(account: CommunicationAccount) -> dict[str, Any]:
    """An account as the API shows it: never its credentials."""
    config = account.rate_config
    cap = ({"perSecond": config["perSecond"], "burst": config.get("burst", 1)} if "perSecond" in config else
           {"perSecond": DEFAULT_CAPS[account.provider].account.per_second,
            "burst": DEFAULT_CAPS[account.provider].account.burst})
    return {"id": account.id, "provider": account.provider.value, "externalId": account.external_id,
            "displayName": account.display_name, "status": account.status.value, "rateCap": cap,
            "createdAt": account.created_at}


async def connect(request: web.Request, actor: Actor, inp: ConnectInput) -> dict[str, Any]:
    command = Connect(inp.provider, inp.displayName, inp.externalId, inp.credentials, inp.settings or {}, inp.verify)
    return view(await request.app[services_key].connections.connect(actor, command))


async def list_(request: web.Request, actor: Actor, _: None) -> list[dict[str, Any]]:
    return [view(a) for a in await request.app[services_key].connections.list(actor)]


async def get(request: web.Request, actor: Actor, inp: IdInput) -> dict[str, Any]:
    return view(await request.app[services_key].connections.get(actor, ident(inp.id)))


async def remove(request: web.Request, actor: Actor, inp: IdInput) -> dict[str, Any]:
    await request.app[services_key].connections.remove(actor, ident(inp.id))
    return {"ok": True}


async def verify(request: web.Request, actor: Actor, inp: IdInput) -> dict[str, Any]:
    return view(await request.app[services_key].connections.verify(actor, ident(inp.id)))


async def rotate(request: web.Request, actor: Actor, inp: RotateInput) -> dict[str, Any]:
    account = await request.app[services_key].connections.rotate_credentials(actor, ident(inp.id), inp.credentials)
    return view(account)


async def set_rate_cap(request: web.Request, actor: Actor, inp: RateCapInput) -> dict[str, Any]:
    account = await request.app[services_key].connections.set_rate_cap(actor, ident(inp.id), inp.perSecond, inp.burst)
    return view(account)


PROCEDURES: dict[str, Procedure] = {
    "communications.accounts.connect": in_team("mutation", ConnectInput, connect),
    "communications.accounts.list": in_team("query", None, list_),
    "communications.accounts.get": in_team("query", IdInput, get),
    "communications.accounts.remove": in_team("mutation", IdInput, remove),
    "communications.accounts.verify": in_team("mutation", IdInput, verify),
    "communications.accounts.rotateCredentials": in_team("mutation", RotateInput, rotate),
    "communications.accounts.setRateCap": in_team("mutation", RateCapInput, set_rate_cap),
}
