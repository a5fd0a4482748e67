"""In-memory system-level stores (no team scope): webhook routes, raw inbound events, keyring canaries."""
from __future__ import annotations

import datetime as dt
import itertools

import attrs

from ...domain.model.channels import Provider
from ...ports.messaging import RawEvent, Route
from .store import Transaction

_ids = itertools.count(1)


@attrs.define
class MemoryRouteRepository:
    tx: Transaction

    async def find(self, provider: Provider, external_id: str) -> Route | None:
        row = self.tx.rows("account_routes").get((provider.value, external_id))
        return row.route if row is not None and row.active else None

    async def accounts(self) -> list[Route]:
        return list(dict.fromkeys(row.route for row in self.tx.rows("account_routes").values()))


@attrs.define
class _RouteRow:
    route: Route
    active: bool


@attrs.define
class _RawRow:
    event: RawEvent
    event_key: str
    next_attempt_at: dt.datetime
    state: str = "pending"
    error: str | None = None
    account_keys: tuple[str, ...] = ()


@attrs.define
class MemoryInboundEventStore:
    tx: Transaction

    async def store(self, provider: Provider, event_key: str, content_type: str, body: bytes,
                    received_at: dt.datetime, *, lease: dt.timedelta, claimed: bool = False) -> int | None:
        if any(r.event.provider is provider and r.event_key == event_key for r in self.tx.rows("inbound_events").values()):
            return None
        event = RawEvent(next(_ids), provider, content_type, body, received_at, 1 if claimed else 0)
        self.tx.put("inbound_events", (event.id,), _RawRow(event, event_key, next_attempt_at=received_at + lease))
        return event.id

    async def claim(self, ids: list[int] | None = None, *, now: dt.datetime, lease: dt.timedelta,
                    limit: int = 100, max_attempts: int = 10) -> list[RawEvent]:
        rows = [r for r in self.tx.rows("inbound_events").values() if (
            r.event.id in ids if ids is not None else r.state in ("pending", "failed")
            and r.event.attempts < max_attempts and r.next_attempt_at <= now)]
        claimed = []
        for row in sorted(rows, key=lambda r: r.event.id)[:limit]:
            event = attrs.evolve(row.event, attempts=row.event.attempts + 1)
            self.tx.put("inbound_events", (event.id,), attrs.evolve(row, event=event, next_attempt_at=now + lease))
            claimed.append(event)
        return claimed

    async def finish(self, id: int, state: str, error: str | None = None, account_keys: list[str] | None = None,
                     retry_at: dt.datetime | None = None) -> None:
        row = self.tx.rows("inbound_events")[(id,)]
        self.tx.put("inbound_events", (id,), attrs.evolve(
            row, state=state, error=error, account_keys=tuple(account_keys or ()),
            next_attempt_at=retry_at or row.next_attempt_at))

    async def unrouted(self, provider: Provider, account_key: str) -> list[int]:
        return sorted(r.event.id for r in self.tx.rows("inbound_events").values()
                      if r.state == "unrouted" and r.event.provider is provider and account_key in r.account_keys)


@attrs.define
class _Canary:
    sealed: str


@attrs.define
class MemoryKeyringCanaries:
    tx: Transaction

    async def all(self) -> dict[str, str]:
        return {key[0]: row.sealed for key, row in self.tx.rows("keyring_canaries").items()}

    async def add(self, key_id: str, sealed: str, at: dt.datetime) -> None:
        if (key_id,) not in self.tx.rows("keyring_canaries"):
            self.tx.put("keyring_canaries", (key_id,), _Canary(sealed))

    async def retire_all_but(self, key_id: str) -> None:
        for key in [k for k in self.tx.rows("keyring_canaries") if k != (key_id,)]:
            self.tx.pop("keyring_canaries", key)
