"""communications.inbox.onChange: the team's inbox changes as a tRPC subscription over server-sent events."""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import attrs
from aiohttp import web

from ....domain.model.users import User
from ..context import current_actor
from ..keys import services_key
from ..trpc import Procedure, Tracked
from . import signed_in


@attrs.frozen
class OnChangeInput:
    teamId: str | None = None  # noqa: N815 — instead of the x-team-id header, which EventSource cannot send
    lastEventId: str | None = None  # noqa: N815 — sent back by the tRPC client when it reconnects


async def on_change(request: web.Request, user: User, inp: OnChangeInput) -> AsyncIterator[Tracked]:
    actor = await current_actor(request, inp.teamId)
    after = inp.lastEventId or request.headers.get("Last-Event-ID") or None
    events = request.app[services_key].live.stream(actor, after)

    async def tracked() -> AsyncIterator[Tracked]:
        try:
            async for event in events:
                data: dict[str, Any] = {"kind": event.kind, "payload": event.payload, "occurredAt": event.occurred_at}
                yield Tracked(event.position, data)
        finally:
            await events.aclose()

    return tracked()


PROCEDURES: dict[str, Procedure] = {
    "communications.inbox.onChange": signed_in("subscription", OnChangeInput, on_change),
}
