"""PostgreSQL labels and inbox queries, under RLS."""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert

from ...domain.model.contacts import Contact
from ...domain.model.labels import Label, RecordType, ThreadFilter, ThreadLink, ThreadView
from ...domain.model.paging import Cursor, Page, PageRequest
from ...domain.model.threads import Thread, ThreadStatus
from . import message_mappers as m
from .messaging import _Scoped
from .repositories import _write
from .schema import Id, communication_threads, contacts, labels, thread_labels, thread_links
from .search import matching_threads


def _row_to_label(r: Any) -> Label:
    return Label(id=r.id, team_id=r.team_id, name=r.name, created_at=r.created_at)


def _label_values(label: Label) -> dict[str, Any]:
    return {"id": label.id, "team_id": label.team_id, "name": label.name, "created_at": label.created_at}


def _json_of(table: sa.Table, thread: sa.Table, values: list[Any], order: list[Any], name: str,
             joined: Any = None) -> sa.Label[Any]:
    """A thread's rows of `table` as one JSON array of arrays (a correlated subquery of the thread list: PostgreSQL
    evaluates it only for the rows the LIMIT keeps, after any sort)."""
    return (sa.select(sa.func.json_agg(aggregate_order_by(sa.func.json_build_array(*values), *order)))
            .select_from(joined if joined is not None else table)
            .where(table.c.team_id == thread.c.team_id, table.c.thread_id == thread.c.id)
            .scalar_subquery().label(name))


def _view_columns() -> list[Any]:
    """A thread's columns, its contact's (as ct_*), and its labels and links: a page in one statement. Built once;
    SQLAlchemy then caches the compiled form of each list statement."""
    t, c, tl, lb, tk = communication_threads, contacts, thread_labels, labels, thread_links
    with_labels = tl.join(lb, sa.and_(lb.c.team_id == tl.c.team_id, lb.c.id == tl.c.label_id))

    def as_text(col: sa.Column[Any], name: str) -> Any:  # ids as text: no uuid.UUID made and turned back per value
        return sa.cast(col, sa.Text).label(name) if isinstance(col.type, type(Id)) else col.label(name)

    return [*(as_text(col, col.name) for col in t.c),
            *(as_text(col, f"ct_{col.name}") for col in c.c if col.name != "team_id"),  # the thread's team
            _json_of(tl, t, [lb.c.id, lb.c.name, lb.c.created_at], [sa.func.lower(lb.c.name), lb.c.id], "labels_json",
                     with_labels),
            _json_of(tk, t, [tk.c.record_type, tk.c.record_id], [tk.c.record_type, tk.c.record_id], "links_json")]


_VIEW_COLUMNS = _view_columns()


class PostgresLabelRepository(_Scoped):
    async def add(self, label: Label) -> None:
        await _write(self.conn, labels.insert().values(_label_values(label)), f"label {label.name!r}")

    async def get(self, id: str) -> Label | None:
        row = (await self.conn.execute(sa.select(labels).where(
            labels.c.team_id == self.team_id, labels.c.id == id))).first()
        return _row_to_label(row) if row else None

    async def list(self) -> list[Label]:
        rows = await self.conn.execute(sa.select(labels).where(labels.c.team_id == self.team_id)
                                       .order_by(sa.func.lower(labels.c.name), labels.c.id))
        return [_row_to_label(r) for r in rows]

    async def update(self, label: Label) -> None:
        await _write(self.conn, labels.update().where(labels.c.team_id == self.team_id, labels.c.id == label.id)
                     .values(name=label.name), f"label {label.name!r}")

    async def delete(self, id: str) -> bool:  # its thread_labels go by ON DELETE CASCADE
        result = await self.conn.execute(labels.delete().where(labels.c.team_id == self.team_id, labels.c.id == id))
        return result.rowcount > 0


class PostgresInboxRepository(_Scoped):
    def _threads(self) -> sa.Select[Any]:
        t, c = communication_threads, contacts
        return (sa.select(*_VIEW_COLUMNS).join(c, sa.and_(c.c.team_id == t.c.team_id, c.c.id == t.c.contact_id))
                .where(t.c.team_id == self.team_id))

    async def list(self, where: ThreadFilter, now: dt.datetime, page: PageRequest) -> Page[ThreadView]:
        t = communication_threads
        query = self._threads().order_by(t.c.last_message_at.desc(), t.c.id.desc()).limit(page.limit + 1)
        query = query.where(*self._conditions(where, now))
        if page.after is not None:
            query = query.where(sa.tuple_(t.c.last_message_at, t.c.id) < sa.tuple_(
                sa.literal(page.after.created_at, t.c.last_message_at.type), sa.literal(page.after.id, t.c.id.type)))
        views = await self._views(query)
        more = len(views) > page.limit
        last = views[page.limit - 1].thread if more else None
        return Page(tuple(views[: page.limit]), Cursor(last.last_message_at, last.id).encode() if last else None)

    def _conditions(self, where: ThreadFilter, now: dt.datetime) -> list[sa.ColumnElement[bool]]:
        t = communication_threads
        due = sa.and_(t.c.status == ThreadStatus.SNOOZED.value,
                      sa.or_(t.c.snoozed_until.is_(None), t.c.snoozed_until <= sa.literal(now, t.c.snoozed_until.type)))
        conditions: list[sa.ColumnElement[bool]] = []
        if where.status == ThreadStatus.OPEN.value:
            conditions.append(sa.or_(t.c.status == ThreadStatus.OPEN.value, due))
        elif where.status == ThreadStatus.SNOOZED.value:
            conditions.append(sa.and_(t.c.status == ThreadStatus.SNOOZED.value, sa.not_(due)))
        elif where.status is not None:
            conditions.append(t.c.status == where.status)
        for label_id in dict.fromkeys(where.label_ids):
            tl = thread_labels
            conditions.append(sa.exists().where(tl.c.team_id == t.c.team_id, tl.c.thread_id == t.c.id,
                                                tl.c.label_id == sa.literal(label_id, tl.c.label_id.type)))
        if where.assignee_id is not None:
            conditions.append(t.c.assignee_id == where.assignee_id)
        if where.visible_to is not None:
            mine = t.c.assignee_id == where.visible_to
            conditions.append(sa.or_(mine, t.c.assignee_id.is_(None)) if where.with_unassigned else mine)
        if where.account_id is not None:
            conditions.append(t.c.account_id == where.account_id)
        if where.contact_id is not None:
            conditions.append(t.c.contact_id == where.contact_id)
        if where.unread is not None:
            conditions.append(t.c.unread_count > 0 if where.unread else t.c.unread_count == 0)
        if where.query:
            conditions.append(matching_threads(self.team_id, where.query))
        if where.link is not None:
            tk = thread_links
            conditions.append(sa.exists().where(tk.c.team_id == t.c.team_id, tk.c.thread_id == t.c.id,
                                                tk.c.record_type == where.link.record_type.value,
                                                tk.c.record_id == where.link.record_id))
        return conditions

    async def _views(self, threads: sa.Select[Any]) -> list[ThreadView]:
        return [self._view(r) for r in await self.conn.execute(threads)]

    def _view(self, r: Any) -> ThreadView:
        contact = Contact(id=r.ct_id, team_id=r.team_id, created_at=r.ct_created_at, display_name=r.ct_display_name,
                          phone=r.ct_phone, client_id=r.ct_client_id)
        return ThreadView(m.row_to_thread(r), contact,
                          tuple(Label(id=id, team_id=self.team_id, name=name, created_at=dt.datetime.fromisoformat(at))
                                for id, name, at in r.labels_json or ()),
                          tuple(ThreadLink(RecordType(kind), id) for kind, id in r.links_json or ()))

    async def view(self, thread_id: str) -> ThreadView | None:
        views = await self._views(self._threads().where(communication_threads.c.id == thread_id))
        return views[0] if views else None

    async def assignees(self, thread_ids: list[str]) -> dict[str, str | None]:
        t = communication_threads
        rows = await self.conn.execute(sa.select(t.c.id, t.c.assignee_id).where(
            t.c.team_id == self.team_id, t.c.id.in_(thread_ids)))
        return {r.id: r.assignee_id for r in rows}

    async def save_state(self, thread: Thread) -> None:
        t = communication_threads
        await self.conn.execute(t.update().where(t.c.team_id == self.team_id, t.c.id == thread.id).values(
            status=thread.status.value, snoozed_until=thread.snoozed_until, assignee_id=thread.assignee_id,
            unread_count=thread.unread_count))

    async def apply_label(self, thread_id: str, label_id: str) -> None:
        await _write(self.conn, insert(thread_labels).values(
            team_id=self.team_id, thread_id=thread_id, label_id=label_id).on_conflict_do_nothing(), "label")

    async def remove_label(self, thread_id: str, label_id: str) -> None:
        tl = thread_labels
        await self.conn.execute(tl.delete().where(tl.c.team_id == self.team_id, tl.c.thread_id == thread_id,
                                                  tl.c.label_id == label_id))

    async def link(self, thread_id: str, link: ThreadLink) -> None:
        await _write(self.conn, insert(thread_links).values(
            team_id=self.team_id, thread_id=thread_id, record_type=link.record_type.value,
            record_id=link.record_id).on_conflict_do_nothing(), "link")

    async def unlink(self, thread_id: str, link: ThreadLink) -> None:
        tk = thread_links
        await self.conn.execute(tk.delete().where(
            tk.c.team_id == self.team_id, tk.c.thread_id == thread_id,
            tk.c.record_type == link.record_type.value, tk.c.record_id == link.record_id))

