"""Reading the audit log (owners and managers): newest first, and a check of the whole chain."""
from __future__ import annotations

import attrs

from ...ports.unit_of_work import UnitOfWorkFactory
from ..model.audit import AuditEntry, ChainVerifier, Verification, audit_cursor
from ..model.errors import InvalidInput
from ..model.paging import DEFAULT_LIMIT, MAX_LIMIT, Page
from ..model.values import Permission
from .access import Actor

VERIFY_BATCH = 1000


@attrs.define
class AuditService:
    uows: UnitOfWorkFactory

    async def list(self, actor: Actor, cursor: str | None = None, limit: int | None = None) -> Page[AuditEntry]:
        """Newest first; `cursor` (a page's `nextCursor`) continues below the last entry shown."""
        actor.require(Permission.AUDIT_READ)
        size = DEFAULT_LIMIT if limit is None else limit
        if not 1 <= size <= MAX_LIMIT:
            raise InvalidInput.single("limit", f"must be between 1 and {MAX_LIMIT}")
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            found = await uow.audit.newest(audit_cursor(cursor), size + 1)
        items = tuple(found[:size])
        return Page(items, str(items[-1].seq) if len(found) > size else None)

    async def verify(self, actor: Actor) -> Verification:
        """Recomputes every hash of the team's chain, oldest first, in batches."""
        actor.require(Permission.AUDIT_READ)
        verifier = ChainVerifier()
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            after = 0
            while not verifier.broken:
                batch = await uow.audit.oldest(after, VERIFY_BATCH)
                verifier.feed(batch)
                if len(batch) < VERIFY_BATCH:
                    break
                after = batch[-1].seq
        return verifier.result()
