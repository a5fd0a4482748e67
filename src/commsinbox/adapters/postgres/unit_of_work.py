"""PostgreSQL units of work. The first statement of each transaction scopes it with set_config(..., true)."""
from __future__ import annotations

from types import TracebackType
from typing import Self

import attrs
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ...domain.model.ids import TeamId, UserId
from ...domain.model.invoices import Invoice
from ...domain.model.orders import Order
from . import mappers, schema
from .messaging import (
    PostgresAccountRepository,
    PostgresContactRepository,
    PostgresMessageRepository,
    PostgresConsentLedger,
    PostgresOutbox,
    PostgresThreadRepository,
)
from .audit import PostgresAuditLog
from .inbox import PostgresInboxRepository, PostgresLabelRepository
from .templates import PostgresTemplateRepository
from .system import PostgresInboundEventStore, PostgresKeyringCanaries, PostgresRouteRepository
from .repositories import (
    PostgresMembershipRepository,
    PostgresRecordRepository,
    PostgresTeamRepository,
    PostgresTeamSettingsRepository,
    PostgresTokenRepository,
    PostgresUserRepository,
    PostgresVaultRepository,
)

_SCOPE = sa.text("SELECT set_config('app.team_id', :team, true), set_config('app.user_id', :user, true)")
# Read-only units keep their statements prepared (they end in COMMIT), but each execution is still planned with its
# values: a generic plan is made for an average team, and misleads for the largest ones (docs/performance.md).
_READ_SCOPE = sa.text("SELECT set_config('app.team_id', :team, true), set_config('app.user_id', :user, true), "
                      "set_config('plan_cache_mode', 'force_custom_plan', true)")
_ACT_AS = sa.text("SELECT set_config('app.user_id', :user, true)")


class _PostgresUnitOfWork:
    conn: AsyncConnection

    def __init__(self, engine: AsyncEngine, team_id: str | None, user_id: str | None, read_only: bool) -> None:
        self._engine = engine
        self._team = team_id
        self._user = user_id
        self._read_only = read_only

    async def __aenter__(self) -> Self:
        self.conn = await self._engine.connect()
        try:
            if self._read_only:  # psycopg then sends BEGIN READ ONLY: no extra round trip
                await self.conn.execution_options(postgresql_readonly=True)
            await self.conn.begin()
            await self.conn.execute(_READ_SCOPE if self._read_only else _SCOPE,
                                    {"team": self._team or "", "user": self._user or ""})
        except BaseException:
            await self.conn.close()
            raise
        self._bind(self.conn)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        try:
            if self.conn.in_transaction():
                # psycopg forgets its prepared statements at every ROLLBACK, never at COMMIT; a read-only
                # transaction has nothing to commit, so ending it so lets repeated reads skip their parse.
                await (self.conn.commit() if self._read_only and exc_type is None else self.conn.rollback())
        finally:
            await self.conn.close()

    async def commit(self) -> None:
        await self.conn.commit()

    def _bind(self, conn: AsyncConnection) -> None:
        raise NotImplementedError


class PostgresTeamUnitOfWork(_PostgresUnitOfWork):
    def __init__(self, engine: AsyncEngine, team_id: TeamId, user_id: UserId | None, read_only: bool) -> None:
        super().__init__(engine, team_id, user_id, read_only)
        self.team_id = team_id

    def _bind(self, conn: AsyncConnection) -> None:
        team = self.team_id
        self.teams = PostgresTeamRepository(conn, team)
        self.members = PostgresMembershipRepository(conn, team)
        self.clients = PostgresRecordRepository(conn, team, schema.clients, mappers.client_values,
                                                mappers.row_to_client)
        self.orders = PostgresRecordRepository(conn, team, schema.orders, mappers.numbered_values,
                                               mappers.row_to_numbered(Order))
        self.invoices = PostgresRecordRepository(conn, team, schema.invoices, mappers.numbered_values,
                                                 mappers.row_to_numbered(Invoice))
        self.transactions = PostgresRecordRepository(conn, team, schema.transactions, mappers.transaction_values,
                                                     mappers.row_to_transaction)
        self.measurements = PostgresRecordRepository(conn, team, schema.measurements, mappers.measurement_values,
                                                     mappers.row_to_measurement)
        self.vault = PostgresVaultRepository(conn, team)
        self.settings = PostgresTeamSettingsRepository(conn, team)
        self.accounts = PostgresAccountRepository(conn, team)
        self.raw_events = PostgresInboundEventStore(conn)
        self.contacts = PostgresContactRepository(conn, team)
        self.threads = PostgresThreadRepository(conn, team)
        self.messages = PostgresMessageRepository(conn, team)
        self.outbox = PostgresOutbox(conn, team)
        self.consent = PostgresConsentLedger(conn, team)
        self.labels = PostgresLabelRepository(conn, team)
        self.inbox = PostgresInboxRepository(conn, team)
        self.templates = PostgresTemplateRepository(conn, team)
        self.audit = PostgresAuditLog(conn, team)


class PostgresAccountUnitOfWork(_PostgresUnitOfWork):
    async def act_as(self, user_id: UserId) -> None:
        await self.conn.execute(_ACT_AS, {"user": user_id})

    def _bind(self, conn: AsyncConnection) -> None:
        self.users = PostgresUserRepository(conn)
        self.tokens = PostgresTokenRepository(conn)
        self.routes = PostgresRouteRepository(conn)
        self.inbound = PostgresInboundEventStore(conn)
        self.canaries = PostgresKeyringCanaries(conn)


@attrs.define
class PostgresUnitOfWorkFactory:
    engine: AsyncEngine

    def for_team(self, team_id: TeamId, user_id: UserId | None = None, *, read_only: bool = False
                 ) -> PostgresTeamUnitOfWork:
        return PostgresTeamUnitOfWork(self.engine, team_id, user_id, read_only)

    def for_accounts(self, user_id: UserId | None = None, *, read_only: bool = False) -> PostgresAccountUnitOfWork:
        return PostgresAccountUnitOfWork(self.engine, None, user_id, read_only)
