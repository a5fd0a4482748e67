"""The live stream of a team's inbox changes: its outbox events, in order, as the member may see them."""
from __future__ import annotations

from collections.abc import AsyncIterator

import attrs

from ...ports.live import ChangeNotifier
from ...ports.messaging import OutboxEntry
from ...ports.unit_of_work import TeamUnitOfWork, UnitOfWorkFactory
from ..model.errors import Forbidden
from ..model.values import Permission
from ..policies.permissions import sees_thread
from .access import Actor
from .inbox import thread_scope


@attrs.define
class LiveService:
    uows: UnitOfWorkFactory
    notifier: ChangeNotifier
    batch: int = 200
    idle_seconds: float = 20.0  # re-reads this often even without a wake-up

    def stream(self, actor: Actor, after: str | None = None) -> AsyncIterator[OutboxEntry]:
        """Events after position `after` (a reconnecting client's last event), else from now on. Membership is
        checked again before every read: a member removed from the team stops receiving at once."""
        actor.require(Permission.INBOX_READ)
        return self._stream(actor, after)

    async def _stream(self, actor: Actor, after: str | None) -> AsyncIterator[OutboxEntry]:
        async with self.notifier.listen(actor.team_id) as listener:
            position = after
            if position is None:
                async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
                    position = await uow.outbox.end()
            while True:
                async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
                    member = await _current(uow, actor)
                    entries = await uow.outbox.since(position, self.batch)
                    visible = await _visible(uow, member, entries)
                for entry in visible:
                    yield entry
                position = entries[-1].position if entries else position
                if len(entries) < self.batch:
                    await listener.wait(self.idle_seconds)


async def _current(uow: TeamUnitOfWork, actor: Actor) -> Actor:
    membership = await uow.members.get(actor.user_id)
    if membership is None:
        raise Forbidden("you are no longer a member of this team")
    return attrs.evolve(actor, membership=membership)


async def _visible(uow: TeamUnitOfWork, actor: Actor, entries: list[OutboxEntry]) -> list[OutboxEntry]:
    """Events about a thread the member may not see (inbox.read_all, Team.agents_see_unassigned) are left out."""
    visible_to, see_unassigned = await thread_scope(uow, actor)
    if visible_to is None:
        return entries
    threads = {str(e.payload["threadId"]) for e in entries if "threadId" in e.payload}
    assignees = await uow.inbox.assignees(sorted(threads)) if threads else {}
    return [e for e in entries if "threadId" not in e.payload or (
        str(e.payload["threadId"]) in assignees
        and sees_thread(actor.membership, assignees[str(e.payload["threadId"])], see_unassigned))]
