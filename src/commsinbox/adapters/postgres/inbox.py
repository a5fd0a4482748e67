"""PostgreSQL labels and inbox queries, under RLS."""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import REGCONFIG, insert

from ...domain.model.labels import query_words, Label, RecordType, ThreadFilter, ThreadLink, ThreadView
from ...domain.model.paging import Cursor, Page, PageRequest
from ...domain.model.threads import Thread, ThreadStatus
from . import message_mappers as m
from .messaging import _Prefixed, _Scoped
from .repositories import _write
from .schema import communication_messages, communication_threads, contacts, labels, thread_labels, thread_links


def _row_to_label(r: Any) -> Label:
    return Label(id=r.id, team_id=r.team_id, name=r.name, created_at=r.created_at)


def _label_values(label: Label) -> dict[str, Any]:
    return {"id": label.id, "team_id": label.team_id, "name": label.name, "created_at": label.created_at}


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
        return (sa.select(t, *(col.label(f"ct_{col.name}") for col in c.c))
                .join(c, sa.and_(c.c.team_id == t.c.team_id, c.c.id == t.c.contact_id))
                .where(t.c.team_id == self.team_id))

    async def list(self, where: ThreadFilter, now: dt.datetime, page: PageRequest) -> Page[ThreadView]:
        t = communication_threads
        query = self._threads().order_by(t.c.last_message_at.desc(), t.c.id.desc()).limit(page.limit + 1)
        query = query.where(*self._conditions(where, now))
        if page.after is not None:
            query = query.where(sa.tuple_(t.c.last_message_at, t.c.id) < sa.tuple_(
                sa.literal(page.after.created_at, t.c.last_message_at.type), sa.literal(page.after.id, t.c.id.type)))
        rows = list(await self.conn.execute(query))
        views = await self._views(rows[: page.limit])
        more = len(rows) > page.limit
        last = views[-1].thread if views else None
        return Page(tuple(views), Cursor(last.last_message_at, last.id).encode() if more and last else None)

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
            conditions.append(self._search(where.query))
        if where.link is not None:
            tk = thread_links
            conditions.append(sa.exists().where(tk.c.team_id == t.c.team_id, tk.c.thread_id == t.c.id,
                                                tk.c.record_type == where.link.record_type.value,
                                                tk.c.record_id == where.link.record_id))
        return conditions

    def _search(self, query: str) -> sa.ColumnElement[bool]:
        """The contact's name contains the text, their phone its digits, or a message of the thread matches
        every word (core full-text search: `simple` configuration, GIN index, no extension needed)."""
        t, c, msg = communication_threads, contacts, communication_messages
        digits = "".join(ch for ch in query if ch.isdigit())
        found = [c.c.display_name.ilike("%" + query.strip() + "%", escape="\\")]
        if len(digits) >= 4:
            found.append(c.c.phone.contains(digits, autoescape=True))
        words = query_words(query)
        if words:
            found.append(sa.exists().where(
                msg.c.team_id == t.c.team_id, msg.c.thread_id == t.c.id,
                msg.c.search_vector.op("@@")(sa.func.to_tsquery(sa.literal("simple", sa.Text).cast(REGCONFIG),
                                                                " & ".join(words)))))
        return sa.or_(*found)

    async def _views(self, rows: list[Any]) -> list[ThreadView]:
        if not rows:
            return []
        ids = [r.id for r in rows]
        tl, tk = thread_labels, thread_links
        found: dict[str, list[Label]] = {}
        for r in await self.conn.execute(sa.select(tl.c.thread_id, labels).join(
                labels, sa.and_(labels.c.team_id == tl.c.team_id, labels.c.id == tl.c.label_id))
                .where(tl.c.team_id == self.team_id, tl.c.thread_id.in_(ids))
                .order_by(sa.func.lower(labels.c.name), labels.c.id)):
            found.setdefault(r.thread_id, []).append(_row_to_label(r))
        linked: dict[str, list[ThreadLink]] = {}
        for r in await self.conn.execute(sa.select(tk).where(tk.c.team_id == self.team_id, tk.c.thread_id.in_(ids))
                                         .order_by(tk.c.record_type, tk.c.record_id)):
            linked.setdefault(r.thread_id, []).append(ThreadLink(RecordType(r.record_type), r.record_id))
        return [ThreadView(m.row_to_thread(r), m.row_to_contact(_Prefixed(r, "ct_")),
                           tuple(found.get(r.id, ())), tuple(linked.get(r.id, ()))) for r in rows]

    async def view(self, thread_id: str) -> ThreadView | None:
        rows = list(await self.conn.execute(self._threads().where(communication_threads.c.id == thread_id)))
        views = await self._views(rows)
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

