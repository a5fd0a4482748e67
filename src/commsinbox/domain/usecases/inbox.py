"""The agent's daily work on threads: list and read them, assign, change status (snooze), mark read, label,
and link them to the team's clients, orders, invoices and transactions."""
from __future__ import annotations

import datetime as dt

import attrs

from ...ports.clock import Clock, IdGenerator
from ...ports.unit_of_work import TeamUnitOfWork, UnitOfWorkFactory
from ..model import events, values
from ..model.errors import InvalidInput, NotFound
from ..model.ids import LabelId, UserId
from ..model.labels import Label, RecordType, ThreadFilter, ThreadLink, ThreadView
from ..model.paging import Page, PageRequest
from ..model.threads import ThreadStatus
from ..model.values import Permission
from ..policies.permissions import is_allowed, sees_thread
from .access import Actor
from .receipts import ReadReceipts


def status(value: str, path: str = "status") -> ThreadStatus:
    try:
        return ThreadStatus(value)
    except ValueError:
        raise InvalidInput.single(path, "must be one of " + ", ".join(s.value for s in ThreadStatus)) from None


def record_type(value: str, path: str = "recordType") -> RecordType:
    try:
        return RecordType(value)
    except ValueError:
        raise InvalidInput.single(path, "must be one of " + ", ".join(r.value for r in RecordType)) from None


@attrs.define
class InboxService:
    uows: UnitOfWorkFactory
    clock: Clock
    receipts: ReadReceipts

    async def list(self, actor: Actor, where: ThreadFilter, page: PageRequest) -> Page[ThreadView]:
        actor.require(Permission.INBOX_READ)
        if where.status is not None:
            status(where.status)
        async with self.uows.for_team(actor.team_id, actor.user_id, read_only=True) as uow:
            visible_to, with_unassigned = await thread_scope(uow, actor)
            where = attrs.evolve(where, visible_to=visible_to, with_unassigned=with_unassigned)
            return _woken(await uow.inbox.list(where, self.clock.now(), page), self.clock.now())

    async def get(self, actor: Actor, id: str) -> ThreadView:
        actor.require(Permission.INBOX_READ)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            return await visible_thread(uow, actor, id, self.clock.now())

    async def assign(self, actor: Actor, id: str, user_id: str | None) -> ThreadView:
        actor.require(Permission.INBOX_WRITE)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            if user_id is not None and await uow.members.get(UserId(user_id)) is None:
                raise InvalidInput.single("userId", "must be a member of the team")
            thread = (await visible_thread(uow, actor, id, self.clock.now())).thread
            thread.assignee_id = UserId(user_id) if user_id is not None else None
            await uow.inbox.save_state(thread)
            await uow.outbox.add(events.THREAD_ASSIGNED, {"threadId": id, "assigneeId": user_id}, self.clock.now())
            view = await _reread(uow, id, self.clock.now())
            await uow.commit()
        return view

    async def set_status(self, actor: Actor, id: str, new: str, snoozed_until: dt.datetime | None = None
                         ) -> ThreadView:
        actor.require(Permission.INBOX_WRITE)
        wanted, now = status(new), self.clock.now()
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            thread = (await visible_thread(uow, actor, id, self.clock.now())).thread
            thread.set_status(wanted, now, snoozed_until)
            await uow.inbox.save_state(thread)
            await uow.outbox.add(events.THREAD_STATUS_CHANGED, {"threadId": id, "status": thread.status.value}, now)
            view = await _reread(uow, id, self.clock.now())
            await uow.commit()
        return view

    async def mark_read(self, actor: Actor, id: str) -> ThreadView:
        actor.require(Permission.INBOX_WRITE)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            thread = (await visible_thread(uow, actor, id, self.clock.now())).thread
            unread = thread.unread_count
            thread.mark_read()
            await uow.inbox.save_state(thread)
            view = await _reread(uow, id, self.clock.now())
            await uow.commit()
        if unread:
            await self.receipts.request(actor.team_id, id)
        return view

    async def link(self, actor: Actor, id: str, kind: str, record_id: str) -> ThreadView:
        return await self._change_link(actor, id, ThreadLink(record_type(kind), record_id), add=True)

    async def unlink(self, actor: Actor, id: str, kind: str, record_id: str) -> ThreadView:
        return await self._change_link(actor, id, ThreadLink(record_type(kind), record_id), add=False)

    async def _change_link(self, actor: Actor, id: str, link: ThreadLink, *, add: bool) -> ThreadView:
        actor.require(Permission.INBOX_WRITE)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            await visible_thread(uow, actor, id, self.clock.now())
            if add:
                repo = {RecordType.CLIENT: uow.clients, RecordType.ORDER: uow.orders, RecordType.INVOICE: uow.invoices,
                        RecordType.TRANSACTION: uow.transactions}[link.record_type]
                if await repo.get(link.record_id) is None:
                    raise NotFound(link.record_type.value, link.record_id)
                await uow.inbox.link(id, link)
            else:
                await uow.inbox.unlink(id, link)
            await uow.outbox.add(events.THREAD_LINKED if add else events.THREAD_UNLINKED, {
                "threadId": id, "recordType": link.record_type.value, "recordId": link.record_id}, self.clock.now())
            view = await _reread(uow, id, self.clock.now())
            await uow.commit()
        return view



@attrs.define
class LabelService:
    uows: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator

    async def list(self, actor: Actor) -> list[Label]:
        actor.require(Permission.INBOX_READ)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            return await uow.labels.list()

    async def create(self, actor: Actor, name: str) -> Label:
        actor.require(Permission.LABELS_MANAGE)
        label = Label(LabelId(self.ids.new_id()), actor.team_id, values.non_empty(name, "name", 64), self.clock.now())
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            await uow.labels.add(label)
            await uow.commit()
        return label

    async def update(self, actor: Actor, id: str, name: str) -> Label:
        actor.require(Permission.LABELS_MANAGE)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            label = await _label(uow, id)
            label.name = values.non_empty(name, "name", 64)
            await uow.labels.update(label)
            await uow.commit()
        return label

    async def delete(self, actor: Actor, id: str) -> Label:
        actor.require(Permission.LABELS_MANAGE)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            label = await _label(uow, id)
            await uow.labels.delete(id)
            await uow.commit()
        return label

    async def apply(self, actor: Actor, id: str, thread_id: str) -> Label:
        return await self._on_thread(actor, id, thread_id, apply=True)

    async def remove(self, actor: Actor, id: str, thread_id: str) -> Label:
        return await self._on_thread(actor, id, thread_id, apply=False)

    async def _on_thread(self, actor: Actor, id: str, thread_id: str, *, apply: bool) -> Label:
        actor.require(Permission.INBOX_WRITE)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            label = await _label(uow, id)
            await visible_thread(uow, actor, thread_id, self.clock.now())
            if apply:
                await uow.inbox.apply_label(thread_id, id)
            else:
                await uow.inbox.remove_label(thread_id, id)
            await uow.outbox.add(events.THREAD_LABELLED if apply else events.THREAD_UNLABELLED,
                                 {"threadId": thread_id, "labelId": id}, self.clock.now())
            await uow.commit()
        return label


async def thread_scope(uow: TeamUnitOfWork, actor: Actor) -> tuple[str | None, bool]:
    """Whose threads the actor sees: (None, _) for every thread, else (their id, whether unassigned ones too)."""
    if is_allowed(actor.membership, Permission.INBOX_READ_ALL):
        return None, True
    team = await uow.teams.get(actor.team_id)
    return actor.user_id, team is not None and team.agents_see_unassigned


async def visible_thread(uow: TeamUnitOfWork, actor: Actor, id: str, now: dt.datetime) -> ThreadView:
    """The thread, if the actor may see it; one they may not see reads as not found."""
    view = await uow.inbox.view(id)
    if view is not None:
        _, with_unassigned = await thread_scope(uow, actor)
        if sees_thread(actor.membership, view.thread.assignee_id, with_unassigned):
            return _wake(view, now)
    raise NotFound("thread", id)


async def _reread(uow: TeamUnitOfWork, id: str, now: dt.datetime) -> ThreadView:
    """The thread after the actor changed it (they may have assigned it away)."""
    view = await uow.inbox.view(id)
    if view is None:
        raise NotFound("thread", id)
    return _wake(view, now)


async def _label(uow: TeamUnitOfWork, id: str) -> Label:
    label = await uow.labels.get(id)
    if label is None:
        raise NotFound("label", id)
    return label


def _wake(view: ThreadView, now: dt.datetime) -> ThreadView:
    """The thread as it reads now: a snooze that has come due shows as open."""
    thread = view.thread
    if thread.status_at(now) is not thread.status:
        thread.status, thread.snoozed_until = ThreadStatus.OPEN, None
    return view


def _woken(page: Page[ThreadView], now: dt.datetime) -> Page[ThreadView]:
    return Page(tuple(_wake(v, now) for v in page.items), page.next_cursor)
