"""communications.consent.*: a contact's opt-in / opt-out per channel."""
from __future__ import annotations

from typing import Any

import attrs
from aiohttp import web

from ....domain.usecases.access import Actor
from ....domain.usecases.consent import ConsentState
from ..keys import services_key
from ..trpc import Procedure
from . import in_team
from .core import ident


@attrs.frozen
class ConsentInput:
    contactId: str  # noqa: N815
    channel: str
    status: str | None = None
    source: str | None = None


def view(state: ConsentState) -> dict[str, Any]:
    """`status` null: no record yet (replies to a customer who wrote are allowed, marketing is not)."""
    return {"status": state.status.value if state.status else None, "at": state.at, "source": state.source}


async def get(request: web.Request, actor: Actor, inp: ConsentInput) -> dict[str, Any]:
    state = await request.app[services_key].consent.get(actor, ident(inp.contactId, "contactId"), inp.channel)
    return view(state)


async def set_(request: web.Request, actor: Actor, inp: ConsentInput) -> dict[str, Any]:
    state = await request.app[services_key].consent.set(actor, ident(inp.contactId, "contactId"), inp.channel,
                                                        inp.status, inp.source)
    return view(state)


PROCEDURES: dict[str, Procedure] = {
    "communications.consent.get": in_team("query", ConsentInput, get),
    "communications.consent.set": in_team("mutation", ConsentInput, set_),
}
