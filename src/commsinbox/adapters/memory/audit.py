"""The in-memory audit log: one chain per team, appends serialised by a lock on the team's chain head."""
from __future__ import annotations

import attrs

from ...domain.model.audit import AuditEntry, AuditEvent
from .store import Transaction

TABLE = "audit_log"


@attrs.define
class MemoryAuditLog:
    tx: Transaction
    team_id: str

    async def append(self, event: AuditEvent) -> AuditEntry:
        await self.tx.lock((TABLE, self.team_id))  # held until the unit of work ends, like the row lock in SQL
        mine = [k[1] for k in self.tx.rows(TABLE) if k[0] == self.team_id]
        previous = self.tx.rows(TABLE)[(self.team_id, max(mine))] if mine else None
        entry = AuditEntry.chain(self.team_id, event, previous)
        self.tx.put(TABLE, (self.team_id, entry.seq), entry)
        return entry

    async def newest(self, before_seq: int | None, limit: int) -> list[AuditEntry]:
        found = [e for k, e in self.tx.rows(TABLE).items()
                 if k[0] == self.team_id and (before_seq is None or k[1] < before_seq)]
        return sorted(found, key=lambda e: e.seq, reverse=True)[:limit]

    async def oldest(self, after_seq: int, limit: int) -> list[AuditEntry]:
        found = [e for k, e in self.tx.rows(TABLE).items() if k[0] == self.team_id and k[1] > after_seq]
        return sorted(found, key=lambda e: e.seq)[:limit]
