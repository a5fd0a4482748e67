"""Repository ports, one per aggregate. Team-scoped repositories only ever see the UoW's team."""
from __future__ import annotations

import datetime as dt
from typing import Any, Protocol, TypeVar

from ..domain.model.clients import Client
from ..domain.model.ids import TeamId, UserId
from ..domain.model.invoices import Invoice
from ..domain.model.measurements import Measurement
from ..domain.model.orders import Order
from ..domain.model.paging import Page, PageRequest
from ..domain.model.teams import Membership, Team
from ..domain.model.transactions import Transaction
from ..domain.model.users import AuthToken, User
from ..domain.model.vault import VaultFile

T = TypeVar("T")


class RecordRepository(Protocol[T]):
    """Add/get/list for team records. `add` raises `Conflict` on a duplicate unique key."""

    async def add(self, item: T) -> None: ...

    async def get(self, id: str) -> T | None: ...

    async def list(self, page: PageRequest, *, client_id: str | None = None) -> Page[T]: ...


class ClientRepository(RecordRepository[Client], Protocol):
    async def update(self, client: Client) -> None: ...

    async def delete(self, id: str) -> bool: ...

    async def find_by_contact(self, *, phone: str | None = None, email: str | None = None) -> list[Client]: ...

    async def find_by_phones(self, phones: list[str]) -> dict[str, list[Client]]: ...


class OrderRepository(RecordRepository[Order], Protocol): ...


class InvoiceRepository(RecordRepository[Invoice], Protocol): ...


class TransactionRepository(RecordRepository[Transaction], Protocol): ...


class MeasurementRepository(RecordRepository[Measurement], Protocol): ...


class TeamRepository(Protocol):
    async def add(self, team: Team) -> None: ...

    async def get(self, id: TeamId) -> Team | None: ...

    async def update(self, team: Team) -> None:
        """Saves and bumps `version`; raises `ConcurrencyConflict` if the stored version moved on."""
        ...

    async def lock(self) -> None:
        """Serialises this team's membership changes until the unit of work ends (e.g. the last-owner rule)."""
        ...


class MembershipRepository(Protocol):
    async def add(self, membership: Membership) -> None: ...

    async def get(self, user_id: UserId) -> Membership | None: ...

    async def list(self) -> list[Membership]: ...

    async def update(self, membership: Membership) -> None: ...

    async def remove(self, user_id: UserId) -> bool: ...


class TeamSettingsRepository(Protocol):
    """Per-team overrides of deployment settings (provider settings, limits ...), as JSON values by key."""

    async def get(self, key: str) -> Any: ...

    async def put(self, key: str, value: Any, at: dt.datetime) -> None: ...

    async def all(self) -> dict[str, Any]: ...


class VaultRepository(Protocol):
    async def upsert(self, file: VaultFile) -> None: ...

    async def get(self, path: str) -> VaultFile | None: ...

    async def list(self, prefix: str | None = None) -> list[VaultFile]: ...

    async def attach(self, transaction_id: str, path: str, at: dt.datetime) -> None:
        """Attaches the file at `path` to the transaction; idempotent."""
        ...

    async def attached(self, transaction_id: str) -> list[VaultFile]: ...


class UserRepository(Protocol):
    """Users are not team data: one user may belong to several teams."""

    async def add(self, user: User) -> None: ...

    async def get(self, id: UserId) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None: ...

    async def update(self, user: User) -> None: ...

    async def teams_of(self, id: UserId) -> list[tuple[Team, Membership]]:
        """The user's memberships with their teams (each user sees only their own)."""
        ...


class TokenRepository(Protocol):
    async def add(self, token: AuthToken) -> None: ...

    async def get_by_hash(self, token_hash: str) -> AuthToken | None: ...

    async def revoke(self, token_hash: str, at: object) -> None: ...
