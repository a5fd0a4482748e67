"""core.audit.*: the team's audit log (owners and managers), and the check of its hash chain."""
from __future__ import annotations

from typing import Any

import attrs
from aiohttp import web

from ....domain.model.audit import AuditEntry
from ....domain.usecases.access import Actor
from .. import views
from ..keys import services_key
from ..trpc import Procedure
from . import in_team


@attrs.frozen
class AuditPageInput:
    cursor: str | None = None
    limit: int | None = None


def entry(e: AuditEntry) -> dict[str, Any]:
    return {"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "subject": e.subject,
            "details": dict(e.details), "prevHash": e.prev_hash, "hash": e.hash}


async def list_(request: web.Request, actor: Actor, inp: AuditPageInput) -> dict[str, Any]:
    return views.page(await request.app[services_key].audit.list(actor, inp.cursor, inp.limit), entry)


async def verify(request: web.Request, actor: Actor, _: None) -> dict[str, Any]:
    result = await request.app[services_key].audit.verify(actor)
    broken = {"seq": result.broken_seq, "reason": result.reason} if not result.ok else None
    return {"ok": result.ok, "checked": result.checked, "headSeq": result.head_seq, "headHash": result.head_hash,
            "firstBroken": broken}


PROCEDURES: dict[str, Procedure] = {
    "core.audit.list": in_team("query", AuditPageInput, list_),
    "core.audit.verify": in_team("query", None, verify),
}
