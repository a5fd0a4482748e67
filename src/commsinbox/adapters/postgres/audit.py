"""The PostgreSQL audit log. Appends of one team take a transaction-scoped advisory lock on the team's chain,
so two concurrent transactions cannot both chain after the same entry; the (team_id, seq) key backs it up."""
from __future__ import annotations

from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...domain.model.audit import AuditEntry, AuditEvent
from .repositories import _write
from .schema import audit_log

_LOCK = sa.text("SELECT pg_advisory_xact_lock(hashtextextended('audit_log:' || :team, 0))")


@attrs.define
class PostgresAuditLog:
    conn: AsyncConnection
    team_id: str

    async def append(self, event: AuditEvent) -> AuditEntry:
        await self.conn.execute(_LOCK, {"team": self.team_id})
        head = (await self.conn.execute(self._mine().order_by(audit_log.c.seq.desc()).limit(1))).first()
        entry = AuditEntry.chain(self.team_id, event, _entry(head) if head else None)
        await _write(self.conn, audit_log.insert().values(attrs.asdict(entry)), "audit entry")
        return entry

    async def newest(self, before_seq: int | None, limit: int) -> list[AuditEntry]:
        query = self._mine().order_by(audit_log.c.seq.desc()).limit(limit)
        if before_seq is not None:
            query = query.where(audit_log.c.seq < before_seq)
        return [_entry(r) for r in await self.conn.execute(query)]

    async def oldest(self, after_seq: int, limit: int) -> list[AuditEntry]:
        query = self._mine().where(audit_log.c.seq > after_seq).order_by(audit_log.c.seq).limit(limit)
        return [_entry(r) for r in await self.conn.execute(query)]

    def _mine(self) -> sa.Select[Any]:
        return sa.select(audit_log).where(audit_log.c.team_id == self.team_id)


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(str(row.team_id), row.seq, row.at, row.actor, row.action, row.subject, dict(row.details),
                      row.prev_hash, row.hash)
