"""The in-memory database: tables of copied rows, with transactions applied on commit."""
from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import attrs

Key = tuple[Any, ...]


@attrs.define
class MemoryDatabase:
    """Shared state of every in-memory unit of work. Rows are stored as copies and handed out as copies."""

    tables: dict[str, dict[Key, Any]] = attrs.field(factory=dict)
    locks: dict[Key, asyncio.Lock] = attrs.field(factory=dict)
    listeners: dict[str, set[asyncio.Event]] = attrs.field(factory=dict)  # team id → live streams to wake
    outbox_sequence: Iterator[int] = attrs.field(factory=lambda: itertools.count(1))

    def notify(self, team_ids: set[str]) -> None:
        for team_id in team_ids:
            for event in self.listeners.get(team_id, ()):
                event.set()

    def table(self, name: str) -> dict[Key, Any]:
        return self.tables.setdefault(name, {})


class ReadOnlyTransaction(RuntimeError):
    """A write in a unit of work opened read-only: a programming error, as in PostgreSQL."""


@attrs.define
class Transaction:
    """A private working set over a `MemoryDatabase`; `commit` writes the changed keys back."""

    db: MemoryDatabase
    read_only: bool = False  # like PostgreSQL's READ ONLY transactions: a write raises
    _work: dict[str, dict[Key, Any]] = attrs.field(factory=dict)
    _changed: dict[str, set[Key]] = attrs.field(factory=dict)
    _held: list[asyncio.Lock] = attrs.field(factory=list)

    async def lock(self, key: Key) -> None:
        """Like SELECT … FOR UPDATE: waits for other transactions holding `key`, holds it until `release`."""
        lock = self.db.locks.setdefault(key, asyncio.Lock())
        if lock not in self._held:
            await lock.acquire()
            self._held.append(lock)
            for name in set(self._work) - set(self._changed):
                del self._work[name]  # read again what the previous holder committed

    def release(self) -> None:
        while self._held:
            self._held.pop().release()

    def rows(self, name: str) -> dict[Key, Any]:
        if name not in self._work:
            self._work[name] = dict(self.db.table(name))
        return self._work[name]

    def put(self, name: str, key: Key, row: Any) -> None:
        self._writable(name)
        self.rows(name)[key] = attrs.evolve(row)
        self._changed.setdefault(name, set()).add(key)

    def pop(self, name: str, key: Key) -> bool:
        self._writable(name)
        found = self.rows(name).pop(key, None) is not None
        self._changed.setdefault(name, set()).add(key)
        return found

    def find(self, name: str, where: Callable[[Any], bool]) -> Iterator[Any]:
        return (attrs.evolve(row) for row in self.rows(name).values() if where(row))

    def _writable(self, name: str) -> None:
        if self.read_only:
            raise ReadOnlyTransaction(f"cannot write {name} in a read-only transaction")

    def commit(self) -> None:
        """Writes the changes back, then wakes the live streams of the teams whose outbox grew. Outbox rows
        (only ever added) are numbered here, so they are numbered in the order they become visible."""
        added = [self._work["outbox"][key] for key in sorted(self._changed.pop("outbox", ()))]
        outbox = self.db.table("outbox")
        for row in added:
            outbox[(next(self.db.outbox_sequence),)] = row
        for name, keys in self._changed.items():
            shared = self.db.table(name)
            for key in keys:
                if key in self._work[name]:
                    shared[key] = self._work[name][key]
                else:
                    shared.pop(key, None)
        self._changed.clear()
        self.db.notify({row.team_id for row in added})
