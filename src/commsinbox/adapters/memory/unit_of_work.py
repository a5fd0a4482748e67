"""In-memory units of work: first-class adapters for tests, BDD and embedding."""
from __future__ import annotations

from types import TracebackType
from typing import Self

import attrs

from ...domain.model.ids import TeamId, UserId
from .repositories import (
    MemoryMembershipRepository,
    MemoryRecordRepository,
    MemoryTeamRepository,
    MemoryTeamSettingsRepository,
    MemoryTokenRepository,
    MemoryUserRepository,
    MemoryVaultRepository,
)
from .audit import MemoryAuditLog
from .inbox import MemoryInboxRepository, MemoryLabelRepository
from .messaging import (
    MemoryAccountRepository,
    MemoryContactRepository,
    MemoryMessageRepository,
    MemoryConsentLedger,
    MemoryOutbox,
    MemoryThreadRepository,
)
from .store import MemoryDatabase, Transaction
from .templates import MemoryTemplateRepository
from .system import MemoryInboundEventStore, MemoryKeyringCanaries, MemoryRouteRepository


class _MemoryUnitOfWork:
    def __init__(self, db: MemoryDatabase, read_only: bool = False) -> None:
        self._db, self._read_only = db, read_only
        self.tx = Transaction(db, read_only)

    async def __aenter__(self) -> Self:
        self.tx = Transaction(self._db, self._read_only)
        self._bind(self.tx)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self.tx.release()
        self.tx = Transaction(self._db, self._read_only)  # anything not committed is dropped

    async def commit(self) -> None:
        self.tx.commit()

    def _bind(self, tx: Transaction) -> None:
        raise NotImplementedError


class MemoryTeamUnitOfWork(_MemoryUnitOfWork):
    def __init__(self, db: MemoryDatabase, team_id: TeamId, read_only: bool = False) -> None:
        super().__init__(db, read_only)
        self.team_id = team_id
        self._bind(self.tx)

    def _bind(self, tx: Transaction) -> None:
        team = self.team_id
        self.teams = MemoryTeamRepository(tx, team)
        self.members = MemoryMembershipRepository(tx, team)
        self.clients = MemoryRecordRepository(tx, team, "clients")
        self.orders = MemoryRecordRepository(tx, team, "orders", ("number",))
        self.invoices = MemoryRecordRepository(tx, team, "invoices", ("number",))
        self.transactions = MemoryRecordRepository(tx, team, "transactions")
        self.measurements = MemoryRecordRepository(tx, team, "measurements")
        self.vault = MemoryVaultRepository(tx, team)
        self.settings = MemoryTeamSettingsRepository(tx, team)
        self.accounts = MemoryAccountRepository(tx, team)
        self.raw_events = MemoryInboundEventStore(tx)
        self.contacts = MemoryContactRepository(tx, team)
        self.threads = MemoryThreadRepository(tx, team)
        self.messages = MemoryMessageRepository(tx, team)
        self.outbox = MemoryOutbox(tx, team)
        self.consent = MemoryConsentLedger(tx, team)
        self.labels = MemoryLabelRepository(tx, team)
        self.inbox = MemoryInboxRepository(tx, team)
        self.templates = MemoryTemplateRepository(tx, team)
        self.audit = MemoryAuditLog(tx, team)


class MemoryAccountUnitOfWork(_MemoryUnitOfWork):
    def __init__(self, db: MemoryDatabase, user_id: UserId | None, read_only: bool = False) -> None:
        super().__init__(db, read_only)
        self.user_id = user_id
        self._bind(self.tx)

    def _bind(self, tx: Transaction) -> None:
        self.users = MemoryUserRepository(tx, self.user_id)
        self.tokens = MemoryTokenRepository(tx)
        self.routes = MemoryRouteRepository(tx)
        self.inbound = MemoryInboundEventStore(tx)
        self.canaries = MemoryKeyringCanaries(tx)

    async def act_as(self, user_id: UserId) -> None:
        self.user_id = self.users.user_id = user_id


@attrs.define
class MemoryUnitOfWorkFactory:
    db: MemoryDatabase = attrs.field(factory=MemoryDatabase)

    def for_team(self, team_id: TeamId, user_id: UserId | None = None, *, read_only: bool = False
                 ) -> MemoryTeamUnitOfWork:
        return MemoryTeamUnitOfWork(self.db, team_id, read_only)

    def for_accounts(self, user_id: UserId | None = None, *, read_only: bool = False
                     ) -> MemoryAccountUnitOfWork:
        return MemoryAccountUnitOfWork(self.db, user_id, read_only)
