"""The transaction boundary. A team UoW is scoped to one team: its repositories see no other team's rows."""
from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from ..domain.model.ids import TeamId, UserId
from .audit import AuditLog
from .inbox import InboxRepository, LabelRepository
from .messaging import (
    AccountRepository,
    ContactRepository,
    InboundEventStore,
    KeyringCanaries,
    MessageRepository,
    ConsentLedger,
    Outbox,
    RouteRepository,
    ThreadRepository,
)
from .templates import TemplateRepository
from .repositories import (
    ClientRepository,
    InvoiceRepository,
    MeasurementRepository,
    MembershipRepository,
    OrderRepository,
    TeamRepository,
    TeamSettingsRepository,
    TokenRepository,
    TransactionRepository,
    UserRepository,
    VaultRepository,
)


class UnitOfWork(Protocol):
    """`async with uow:` opens the transaction; `commit()` makes it durable; leaving without it rolls back."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None: ...

    async def commit(self) -> None: ...


class TeamUnitOfWork(UnitOfWork, Protocol):
    team_id: TeamId
    teams: TeamRepository
    members: MembershipRepository
    clients: ClientRepository
    orders: OrderRepository
    invoices: InvoiceRepository
    transactions: TransactionRepository
    measurements: MeasurementRepository
    vault: VaultRepository
    settings: TeamSettingsRepository
    accounts: AccountRepository
    raw_events: InboundEventStore  # system table: lets ingestion mark its raw event done in the same transaction
    contacts: ContactRepository
    threads: ThreadRepository
    messages: MessageRepository
    outbox: Outbox
    consent: ConsentLedger
    labels: LabelRepository
    inbox: InboxRepository
    templates: TemplateRepository
    audit: AuditLog  # append-only: entries commit with the change they record


class AccountUnitOfWork(UnitOfWork, Protocol):
    """Work on what belongs to no team: users and tokens (`user_id` limits what memberships are visible),
    webhook routes and raw inbound events."""

    users: UserRepository
    tokens: TokenRepository
    routes: RouteRepository
    inbound: InboundEventStore
    canaries: KeyringCanaries

    async def act_as(self, user_id: UserId) -> None:
        """For the rest of this transaction, the memberships visible are `user_id`'s (once the caller has
        authenticated them: it spares a second transaction for the memberships)."""


class UnitOfWorkFactory(Protocol):
    """`read_only=True`: the work only reads (a write fails), and the transaction ends in a commit, which lets
    the database adapter keep its prepared statements (docs/performance.md)."""

    def for_team(self, team_id: TeamId, user_id: UserId | None = None, *, read_only: bool = False
                 ) -> TeamUnitOfWork: ...

    def for_accounts(self, user_id: UserId | None = None, *, read_only: bool = False) -> AccountUnitOfWork: ...
