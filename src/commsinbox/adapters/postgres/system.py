"""PostgreSQL system-level stores (no team scope): webhook routes, raw inbound events, keyring canaries."""
from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from ...domain.model.channels import Provider
from ...ports.messaging import RawEvent, Route
from .schema import account_routes, inbound_events, keyring_canaries


@attrs.define
class PostgresRouteRepository:
    conn: AsyncConnection

    async def find(self, provider: Provider, external_id: str) -> Route | None:
        row = (await self.conn.execute(sa.select(account_routes.c.team_id, account_routes.c.account_id).where(
            account_routes.c.provider == provider.value, account_routes.c.external_id == external_id,
            account_routes.c.active))).first()
        return Route(row.team_id, row.account_id) if row else None

    async def accounts(self) -> list[Route]:
        rows = await self.conn.execute(sa.select(account_routes.c.team_id, account_routes.c.account_id).distinct()
                                       .order_by(account_routes.c.team_id, account_routes.c.account_id))
        return [Route(r.team_id, r.account_id) for r in rows]


@attrs.define
class PostgresInboundEventStore:
    conn: AsyncConnection

    async def store(self, provider: Provider, event_key: str, content_type: str, body: bytes,
                    received_at: dt.datetime, *, lease: dt.timedelta, claimed: bool = False) -> int | None:
        statement = insert(inbound_events).values(
            provider=provider.value, event_key=event_key, content_type=content_type, body=body,
            received_at=received_at, state="pending", attempts=1 if claimed else 0,
            next_attempt_at=received_at + lease).on_conflict_do_nothing().returning(inbound_events.c.id)
        row = (await self.conn.execute(statement)).first()
        return row.id if row else None

    async def claim(self, ids: list[int] | None = None, *, now: dt.datetime, lease: dt.timedelta,
                    limit: int = 100, max_attempts: int = 10) -> list[RawEvent]:
        c = inbound_events.c
        chosen = c.id.in_(ids) if ids is not None else sa.and_(
            c.state.in_(("pending", "failed")), c.next_attempt_at <= now, c.attempts < max_attempts)
        locked = sa.select(c.id).where(chosen).order_by(c.id).limit(limit).with_for_update(skip_locked=True)
        rows = await self.conn.execute(inbound_events.update().where(c.id.in_(locked.scalar_subquery()))
                                       .values(attempts=c.attempts + 1, next_attempt_at=now + lease)
                                       .returning(c.id, c.provider, c.content_type, c.body, c.received_at, c.attempts))
        return sorted((RawEvent(r.id, Provider(r.provider), r.content_type, r.body, r.received_at, r.attempts)
                       for r in rows), key=lambda e: e.id)

    async def finish(self, id: int, state: str, error: str | None = None, account_keys: list[str] | None = None,
                     retry_at: dt.datetime | None = None) -> None:
        values: dict[str, Any] = {"state": state, "last_error": error, "account_keys": account_keys or []}
        if retry_at is not None:
            values["next_attempt_at"] = retry_at
        await self.conn.execute(inbound_events.update().where(inbound_events.c.id == id).values(values))

    async def unrouted(self, provider: Provider, account_key: str) -> list[int]:
        c = inbound_events.c
        rows = await self.conn.execute(sa.select(c.id).where(
            c.state == "unrouted", c.provider == provider.value, sa.literal(account_key) == sa.any_(c.account_keys)
        ).order_by(c.id))
        return [r.id for r in rows]


@attrs.define
class PostgresKeyringCanaries:
    conn: AsyncConnection

    async def all(self) -> dict[str, str]:
        return {r.key_id: r.sealed for r in await self.conn.execute(sa.select(keyring_canaries))}

    async def add(self, key_id: str, sealed: str, at: dt.datetime) -> None:
        await self.conn.execute(insert(keyring_canaries).values(key_id=key_id, sealed=sealed, created_at=at)
                                .on_conflict_do_nothing())

    async def retire_all_but(self, key_id: str) -> None:
        await self.conn.execute(keyring_canaries.delete().where(keyring_canaries.c.key_id != key_id))
