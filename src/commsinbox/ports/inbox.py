"""Repository ports for the inbox: thread queries and inbox state, labels, and links to business records."""
from __future__ import annotations

import datetime as dt
from typing import Protocol

from ..domain.model.labels import Label, ThreadFilter, ThreadLink, ThreadView
from ..domain.model.paging import Page, PageRequest
from ..domain.model.threads import Thread


class LabelRepository(Protocol):
    async def add(self, label: Label) -> None:
        """`Conflict` when the team has a label of that name (case-insensitively)."""
        ...

    async def get(self, id: str) -> Label | None: ...

    async def list(self) -> list[Label]:
        """By name."""
        ...

    async def update(self, label: Label) -> None:
        """`Conflict` when the new name is taken."""
        ...

    async def delete(self, id: str) -> bool:
        """Removes the label from every thread too."""
        ...


class InboxRepository(Protocol):
    async def list(self, where: ThreadFilter, now: dt.datetime, page: PageRequest) -> Page[ThreadView]:
        """Newest first by (last_message_at, id); the cursor names the last thread's pair."""
        ...

    async def view(self, thread_id: str) -> ThreadView | None: ...

    async def assignees(self, thread_ids: list[str]) -> dict[str, str | None]:
        """Thread id → its assignee (None: unassigned), for the threads of the team among `thread_ids`."""
        ...

    async def save_state(self, thread: Thread) -> None:
        """Saves what agents change: status, snooze time, assignee and unread count."""
        ...

    async def apply_label(self, thread_id: str, label_id: str) -> None:
        """Idempotent."""
        ...

    async def remove_label(self, thread_id: str, label_id: str) -> None: ...

    async def link(self, thread_id: str, link: ThreadLink) -> None:
        """Idempotent."""
        ...

    async def unlink(self, thread_id: str, link: ThreadLink) -> None: ...
