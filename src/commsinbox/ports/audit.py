"""The audit log port: appended to inside the caller's unit of work, so an entry commits with its change."""
from __future__ import annotations

from typing import Protocol

from ..domain.model.audit import AuditEntry, AuditEvent


class AuditLog(Protocol):
    async def append(self, event: AuditEvent) -> AuditEntry:
        """Chains `event` after the team's latest entry. Concurrent appends of one team wait for each other
        (the chain head is locked until the transaction ends), so the chain stays one line with no gaps."""
        ...

    async def newest(self, before_seq: int | None, limit: int) -> list[AuditEntry]:
        """Newest first: entries with seq below `before_seq` (None: from the latest)."""
        ...

    async def oldest(self, after_seq: int, limit: int) -> list[AuditEntry]:
        """Oldest first: entries with seq above `after_seq`, for verifying the chain in batches."""
        ...
