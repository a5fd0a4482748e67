"""In-memory labels and inbox queries, team-scoped as RLS makes them in PostgreSQL."""
from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from ...domain.model.errors import Conflict
from ...domain.model import search
from ...domain.model.labels import Label, ThreadFilter, ThreadLink, ThreadView
from ...domain.model.paging import Cursor, Page, PageRequest
from ...domain.model.threads import Thread
from .messaging import _Scoped


@attrs.define
class _TeamRow:
    team_id: str


class MemoryLabelRepository(_Scoped):
    def _taken(self, label: Label) -> bool:
        return any(r.team_id == self.team_id and r.id != label.id and r.name.lower() == label.name.lower()
                   for r in self.tx.rows("labels").values())

    async def add(self, label: Label) -> None:
        self._check(label, "labels")
        if self._taken(label):
            raise Conflict(f"label {label.name!r} already exists in this team")
        self.tx.put("labels", (label.id,), label)

    async def get(self, id: str) -> Label | None:
        row = self.tx.rows("labels").get((id,))
        return attrs.evolve(row) if row is not None and row.team_id == self.team_id else None

    async def list(self) -> list[Label]:
        return sorted(self.tx.find("labels", lambda r: r.team_id == self.team_id), key=lambda r: (r.name.lower(), r.id))

    async def update(self, label: Label) -> None:
        self._check(label, "labels")
        if self._taken(label):
            raise Conflict(f"label {label.name!r} already exists in this team")
        if await self.get(label.id) is not None:
            self.tx.put("labels", (label.id,), label)

    async def delete(self, id: str) -> bool:
        if await self.get(id) is None:
            return False
        for key in [k for k in self.tx.rows("thread_labels") if k[0] == self.team_id and k[2] == id]:
            self.tx.pop("thread_labels", key)
        return self.tx.pop("labels", (id,))


class MemoryInboxRepository(_Scoped):
    async def list(self, where: ThreadFilter, now: dt.datetime, page: PageRequest) -> Page[ThreadView]:
        rows = [t for t in self.tx.find("communication_threads", lambda t: t.team_id == self.team_id)
                if self._matches(t, where, now)]
        rows.sort(key=lambda t: (t.last_message_at, t.id), reverse=True)
        if page.after is not None:
            rows = [t for t in rows if (t.last_message_at, t.id) < (page.after.created_at, page.after.id)]
        items = rows[: page.limit]
        more = len(rows) > page.limit
        cursor = Cursor(items[-1].last_message_at, items[-1].id).encode() if more else None
        return Page(tuple([self._view(t) for t in items]), cursor)

    def _matches(self, t: Thread, where: ThreadFilter, now: dt.datetime) -> bool:
        labels = self._label_ids(t.id)
        return ((where.status is None or t.status_at(now).value == where.status)
                and set(where.label_ids) <= labels
                and (where.assignee_id is None or t.assignee_id == where.assignee_id)
                and (where.visible_to is None or t.assignee_id == where.visible_to
                     or (where.with_unassigned and t.assignee_id is None))
                and (where.account_id is None or t.account_id == where.account_id)
                and (where.contact_id is None or t.contact_id == where.contact_id)
                and (where.unread is None or (t.unread_count > 0) == where.unread)
                and (where.link is None or where.link in self._links(t.id))
                and (not where.query or self._found(t, where.query)))

    def _found(self, t: Thread, query: str) -> bool:
        """The rule of domain/model/search.py, which the PostgreSQL adapter's search tables implement."""
        contact = self.tx.rows("contacts")[(t.contact_id,)]
        wanted = search.words(query)
        if search.name_matches(wanted, contact.display_name) or search.phone_matches(
                search.query_digits(query), contact.phone):
            return True
        return search.message_matches(wanted, (m.content for m in self.tx.rows("communication_messages").values()
                                               if m.team_id == self.team_id and m.thread_id == t.id))

    def _label_ids(self, thread_id: str) -> set[str]:
        return {k[2] for k in self.tx.rows("thread_labels") if k[:2] == (self.team_id, thread_id)}

    def _links(self, thread_id: str) -> list[ThreadLink]:
        keys = sorted(k[2:] for k in self.tx.rows("thread_links") if k[:2] == (self.team_id, thread_id))
        return [ThreadLink(kind, id) for kind, id in keys]

    def _view(self, thread: Thread) -> ThreadView:
        contact = attrs.evolve(self.tx.rows("contacts")[(thread.contact_id,)])
        labels = [self.tx.rows("labels")[(id,)] for id in self._label_ids(thread.id)]
        return ThreadView(thread, contact, tuple(sorted(labels, key=lambda r: (r.name.lower(), r.id))),
                          tuple(self._links(thread.id)))

    async def view(self, thread_id: str) -> ThreadView | None:
        row = self.tx.rows("communication_threads").get((thread_id,))
        return self._view(attrs.evolve(row)) if row is not None and row.team_id == self.team_id else None

    async def assignees(self, thread_ids: list[str]) -> dict[str, str | None]:
        rows = self.tx.rows("communication_threads")
        return {id: row.assignee_id for id in thread_ids
                if (row := rows.get((id,))) is not None and row.team_id == self.team_id}

    async def save_state(self, thread: Thread) -> None:
        self._check(thread, "communication_threads")
        stored: Any = self.tx.rows("communication_threads").get((thread.id,))
        if stored is not None and stored.team_id == self.team_id:
            self.tx.put("communication_threads", (thread.id,), attrs.evolve(
                stored, status=thread.status, snoozed_until=thread.snoozed_until,
                assignee_id=thread.assignee_id, unread_count=thread.unread_count))

    async def apply_label(self, thread_id: str, label_id: str) -> None:
        self.tx.put("thread_labels", (self.team_id, thread_id, label_id), _TeamRow(self.team_id))

    async def remove_label(self, thread_id: str, label_id: str) -> None:
        self.tx.pop("thread_labels", (self.team_id, thread_id, label_id))

    async def link(self, thread_id: str, link: ThreadLink) -> None:
        key = (self.team_id, thread_id, link.record_type, link.record_id)
        self.tx.put("thread_links", key, _TeamRow(self.team_id))

    async def unlink(self, thread_id: str, link: ThreadLink) -> None:
        self.tx.pop("thread_links", (self.team_id, thread_id, link.record_type, link.record_id))

