"""In-memory repositories. Team-scoped ones filter by the unit of work's team, as RLS does in PostgreSQL."""
from __future__ import annotations

import copy
from typing import Any

import attrs

from ...domain.model.errors import ConcurrencyConflict, Conflict, Forbidden
from ...domain.model.paging import Cursor, Page, PageRequest
from ...domain.model.teams import Membership, Team
from ...domain.model.users import AuthToken, User
from .store import Transaction


def _paginate(rows: list[Any], page: PageRequest) -> Page[Any]:
    rows.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    if page.after is not None:
        rows = [r for r in rows if (r.created_at, r.id) < (page.after.created_at, page.after.id)]
    items = tuple(rows[: page.limit])
    more = len(rows) > page.limit
    return Page(items, Cursor(items[-1].created_at, items[-1].id).encode() if more else None)


@attrs.define
class MemoryRecordRepository:
    """Rows with `id`, `team_id`, `created_at`; `unique` names fields unique within a team."""

    tx: Transaction
    team_id: str
    table: str
    unique: tuple[str, ...] = ()

    def _mine(self, row: Any) -> bool:
        return row.team_id == self.team_id

    def _check_team(self, item: Any) -> None:
        if item.team_id != self.team_id:
            raise Forbidden(f"{self.table}: row belongs to another team")

    async def add(self, item: Any) -> None:
        self._check_team(item)
        if (item.id,) in self.tx.rows(self.table):
            raise Conflict(f"{self.table} {item.id} already exists")
        for field in self.unique:
            value = getattr(item, field)
            if any(self._mine(r) and getattr(r, field) == value for r in self.tx.rows(self.table).values()):
                raise Conflict(f"{self.table[:-1]} {field} {value!r} already exists in this team")
        self.tx.put(self.table, (item.id,), item)

    async def get(self, id: str) -> Any:
        row = self.tx.rows(self.table).get((id,))
        return attrs.evolve(row) if row is not None and self._mine(row) else None

    async def list(self, page: PageRequest, *, client_id: str | None = None) -> Page[Any]:
        rows = list(self.tx.find(self.table, lambda r: self._mine(r) and (
            client_id is None or getattr(r, "client_id", None) == client_id)))
        return _paginate(rows, page)

    async def update(self, item: Any) -> None:
        self._check_team(item)
        if await self.get(item.id) is not None:
            self.tx.put(self.table, (item.id,), item)

    async def delete(self, id: str) -> bool:
        return await self.get(id) is not None and self.tx.pop(self.table, (id,))

    async def find_by_phones(self, phones: list[str]) -> dict[str, list[Any]]:
        wanted = set(phones)
        found: dict[str, list[Any]] = {}
        for row in self.tx.find(self.table, lambda r: self._mine(r) and r.phone in wanted):
            found.setdefault(row.phone, []).append(row)
        return found

    async def find_by_contact(self, *, phone: str | None = None, email: str | None = None) -> list[Any]:
        return list(self.tx.find(self.table, lambda r: self._mine(r) and (
            (phone is not None and r.phone == phone) or (email is not None and r.email == email))))


@attrs.define
class MemoryTeamRepository:
    tx: Transaction
    team_id: str

    async def add(self, team: Team) -> None:
        if team.id != self.team_id:
            raise Forbidden("teams: row belongs to another team")
        if (team.id,) in self.tx.rows("teams"):
            raise Conflict(f"team {team.id} already exists")
        self.tx.put("teams", (team.id,), team)

    async def get(self, id: str) -> Team | None:
        row = self.tx.rows("teams").get((id,)) if id == self.team_id else None
        return attrs.evolve(row) if row is not None else None

    async def update(self, team: Team) -> None:
        stored = self.tx.db.table("teams").get((team.id,))
        if team.id != self.team_id or stored is None:
            raise Forbidden("teams: row belongs to another team")
        if stored.version != team.version:
            raise ConcurrencyConflict("the team was changed by someone else; try again")
        team.version += 1
        self.tx.put("teams", (team.id,), team)

    async def lock(self) -> None:
        await self.tx.lock(("teams", self.team_id))


@attrs.define
class MemoryMembershipRepository:
    tx: Transaction
    team_id: str

    async def add(self, membership: Membership) -> None:
        if membership.team_id != self.team_id:
            raise Forbidden("team_memberships: row belongs to another team")
        if (self.team_id, membership.user_id) in self.tx.rows("team_memberships"):
            raise Conflict("already a member")
        self.tx.put("team_memberships", (self.team_id, membership.user_id), membership)

    async def get(self, user_id: str) -> Membership | None:
        return self.tx.rows("team_memberships").get((self.team_id, user_id))

    async def list(self) -> list[Membership]:
        rows = self.tx.find("team_memberships", lambda m: m.team_id == self.team_id)
        return sorted(rows, key=lambda m: (m.created_at, m.user_id))

    async def update(self, membership: Membership) -> None:
        if membership.team_id == self.team_id and await self.get(membership.user_id):
            self.tx.put("team_memberships", (self.team_id, membership.user_id), membership)

    async def remove(self, user_id: str) -> bool:
        return await self.get(user_id) is not None and self.tx.pop("team_memberships", (self.team_id, user_id))


@attrs.define
class MemoryTeamSettingsRepository:
    tx: Transaction
    team_id: str

    async def get(self, key: str) -> Any:
        row = self.tx.rows("team_settings").get((self.team_id, key))
        return copy.deepcopy(row.value) if row is not None else None

    async def put(self, key: str, value: Any, at: Any) -> None:
        self.tx.put("team_settings", (self.team_id, key), _Setting(copy.deepcopy(value), at))

    async def all(self) -> dict[str, Any]:
        return {k[1]: copy.deepcopy(v.value) for k, v in self.tx.rows("team_settings").items() if k[0] == self.team_id}


@attrs.define
class _Setting:
    value: Any
    updated_at: Any


@attrs.define
class MemoryVaultRepository:
    tx: Transaction
    team_id: str

    async def upsert(self, file: Any) -> None:
        if file.team_id != self.team_id:
            raise Forbidden("vault_files: row belongs to another team")
        self.tx.put("vault_files", (self.team_id, file.path), file)

    async def get(self, path: str) -> Any:
        return self.tx.rows("vault_files").get((self.team_id, path))

    async def list(self, prefix: str | None = None) -> list[Any]:
        rows = self.tx.find("vault_files", lambda f: f.team_id == self.team_id and (
            prefix is None or f.path == prefix or f.path.startswith(prefix + "/")))
        return sorted(rows, key=lambda f: f.path)

    async def attach(self, transaction_id: str, path: str, at: Any) -> None:
        self.tx.put("transaction_files", (self.team_id, transaction_id, path), _Attached(self.team_id, at))

    async def attached(self, transaction_id: str) -> list[Any]:
        files = self.tx.rows("vault_files")
        keys = sorted(k for k in self.tx.rows("transaction_files") if k[:2] == (self.team_id, transaction_id))
        return [files[(self.team_id, path)] for _, _, path in keys if (self.team_id, path) in files]


@attrs.frozen
class _Attached:
    team_id: str
    attached_at: Any


@attrs.define
class MemoryUserRepository:
    tx: Transaction
    user_id: str | None

    async def add(self, user: User) -> None:
        if await self.get_by_email(user.email) is not None:
            raise Conflict(f"a user with email {user.email} already exists")
        self.tx.put("users", (user.id,), user)

    async def get(self, id: str) -> User | None:
        row = self.tx.rows("users").get((id,))
        return attrs.evolve(row) if row is not None else None

    async def get_by_email(self, email: str) -> User | None:
        return next(self.tx.find("users", lambda u: u.email == email), None)

    async def update(self, user: User) -> None:
        self.tx.put("users", (user.id,), user)

    async def teams_of(self, id: str) -> list[tuple[Team, Membership]]:
        if id != self.user_id:
            return []
        memberships = sorted(self.tx.find("team_memberships", lambda m: m.user_id == id),
                             key=lambda m: (m.created_at, m.team_id))
        teams = self.tx.rows("teams")
        return [(attrs.evolve(teams[(m.team_id,)]), m) for m in memberships if (m.team_id,) in teams]


@attrs.define
class MemoryTokenRepository:
    tx: Transaction

    async def add(self, token: AuthToken) -> None:
        self.tx.put("auth_tokens", (token.token_hash,), token)

    async def get_by_hash(self, token_hash: str) -> AuthToken | None:
        return self.tx.rows("auth_tokens").get((token_hash,))

    async def revoke(self, token_hash: str, at: Any) -> None:
        token = await self.get_by_hash(token_hash)
        if token is not None and token.revoked_at is None:
            self.tx.put("auth_tokens", (token_hash,), attrs.evolve(token, revoked_at=at))
