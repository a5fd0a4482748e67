"""PostgreSQL repositories (SQLAlchemy Core). Each query also says `team_id = :team` for index use,
and RLS enforces the same on the database side."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection

from ...domain.model.errors import ConcurrencyConflict, Conflict, Forbidden
from ...domain.model.paging import Cursor, Page, PageRequest
from ...domain.model.teams import Membership, Team
from ...domain.model.users import AuthToken, User
from . import mappers
from .schema import auth_tokens, team_memberships, team_settings, teams, transaction_files, users, vault_files


async def _write(conn: AsyncConnection, statement: sa.Executable, what: str,
                 params: dict[str, Any] | None = None) -> sa.CursorResult[Any]:
    """Runs a write and maps the database's refusals to domain errors (a refusal ends the unit of work)."""
    try:
        return await conn.execute(statement, params)
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == "23505":
            raise Conflict(f"{what} already exists: {mappers.unique_detail(exc)}") from None
        if getattr(exc.orig, "sqlstate", None) == "23503":
            raise Conflict(f"{what} refers to a record that does not exist") from None
        raise
    except ProgrammingError as exc:
        if getattr(exc.orig, "sqlstate", None) == "42501":  # violates row-level security policy
            raise Forbidden(f"{what}: row belongs to another team") from None
        raise


@attrs.define
class PostgresRecordRepository:
    conn: AsyncConnection
    team_id: str
    table: sa.Table
    to_row: Callable[[Any], dict[str, Any]]
    from_row: Callable[[Any], Any]

    async def add(self, item: Any) -> None:
        await _write(self.conn, self.table.insert().values(self.to_row(item)), self.table.name[:-1])

    async def get(self, id: str) -> Any:
        row = (await self.conn.execute(self._mine().where(self.table.c.id == id))).first()
        return self.from_row(row) if row else None

    async def list(self, page: PageRequest, *, client_id: str | None = None) -> Page[Any]:
        t = self.table
        query = self._mine().order_by(t.c.created_at.desc(), t.c.id.desc()).limit(page.limit + 1)
        if page.after is not None:
            query = query.where(sa.tuple_(t.c.created_at, t.c.id) < sa.tuple_(
                sa.literal(page.after.created_at, t.c.created_at.type), sa.literal(page.after.id, t.c.id.type)))
        if client_id is not None:
            query = query.where(t.c.client_id == client_id)
        rows = [self.from_row(r) for r in await self.conn.execute(query)]
        items = tuple(rows[: page.limit])
        more = len(rows) > page.limit
        return Page(items, Cursor(items[-1].created_at, items[-1].id).encode() if more else None)

    async def update(self, item: Any) -> None:
        values = self.to_row(item)
        await _write(self.conn, self.table.update().where(
            self.table.c.team_id == self.team_id, self.table.c.id == item.id).values(values), self.table.name[:-1])

    async def delete(self, id: str) -> bool:
        result = await self.conn.execute(self.table.delete().where(
            self.table.c.team_id == self.team_id, self.table.c.id == id))
        return result.rowcount > 0

    async def find_by_phones(self, phones: list[str]) -> dict[str, list[Any]]:
        if not phones:
            return {}
        found: dict[str, list[Any]] = {}
        for row in await self.conn.execute(self._mine().where(self.table.c.phone.in_(set(phones)))):
            found.setdefault(row.phone, []).append(self.from_row(row))
        return found

    async def find_by_contact(self, *, phone: str | None = None, email: str | None = None) -> list[Any]:
        conditions = [c for c in (
            self.table.c.phone == phone if phone is not None else None,
            self.table.c.email == email if email is not None else None) if c is not None]
        if not conditions:
            return []
        return [self.from_row(r) for r in await self.conn.execute(self._mine().where(sa.or_(*conditions)))]

    def _mine(self) -> sa.Select[Any]:
        return sa.select(self.table).where(self.table.c.team_id == self.team_id)


@attrs.define
class PostgresTeamRepository:
    conn: AsyncConnection
    team_id: str

    async def add(self, team: Team) -> None:
        await _write(self.conn, teams.insert().values(mappers.team_values(team)), "team")

    async def get(self, id: str) -> Team | None:
        if id != self.team_id:
            return None
        row = (await self.conn.execute(sa.select(teams).where(teams.c.id == id))).first()
        return mappers.row_to_team(row) if row else None

    async def update(self, team: Team) -> None:
        values = mappers.team_values(attrs.evolve(team, version=team.version + 1))
        result = await _write(self.conn, teams.update().where(
            teams.c.id == team.id, teams.c.version == team.version).values(values), "team")
        if result.rowcount == 0:
            raise ConcurrencyConflict("the team was changed by someone else; try again")
        team.version += 1

    async def lock(self) -> None:
        await self.conn.execute(sa.select(teams.c.id).where(teams.c.id == self.team_id).with_for_update())


@attrs.define
class PostgresMembershipRepository:
    conn: AsyncConnection
    team_id: str

    async def add(self, membership: Membership) -> None:
        await _write(self.conn, team_memberships.insert().values(mappers.membership_values(membership)), "member")

    async def get(self, user_id: str) -> Membership | None:
        row = (await self.conn.execute(self._mine().where(team_memberships.c.user_id == user_id))).first()
        return mappers.row_to_membership(row) if row else None

    async def list(self) -> list[Membership]:
        query = self._mine().order_by(team_memberships.c.created_at, team_memberships.c.user_id)
        return [mappers.row_to_membership(r) for r in await self.conn.execute(query)]

    async def update(self, membership: Membership) -> None:
        await _write(self.conn, team_memberships.update().where(
            team_memberships.c.team_id == self.team_id, team_memberships.c.user_id == membership.user_id,
        ).values(role=membership.role.value, permissions=sorted(p.value for p in membership.permissions)), "member")

    async def remove(self, user_id: str) -> bool:
        result = await self.conn.execute(team_memberships.delete().where(
            team_memberships.c.team_id == self.team_id, team_memberships.c.user_id == user_id))
        return result.rowcount > 0

    def _mine(self) -> sa.Select[Any]:
        return sa.select(team_memberships).where(team_memberships.c.team_id == self.team_id)


@attrs.define
class PostgresTeamSettingsRepository:
    conn: AsyncConnection
    team_id: str

    async def get(self, key: str) -> Any:
        return (await self.conn.execute(sa.select(team_settings.c.value).where(
            team_settings.c.team_id == self.team_id, team_settings.c.key == key))).scalar()

    async def put(self, key: str, value: Any, at: Any) -> None:
        statement = insert(team_settings).values(team_id=self.team_id, key=key, value=value, updated_at=at)
        await _write(self.conn, statement.on_conflict_do_update(
            index_elements=["team_id", "key"], set_={"value": value, "updated_at": at}), "setting")

    async def all(self) -> dict[str, Any]:
        rows = await self.conn.execute(sa.select(team_settings.c.key, team_settings.c.value).where(
            team_settings.c.team_id == self.team_id))
        return {r.key: r.value for r in rows}


@attrs.define
class PostgresVaultRepository:
    conn: AsyncConnection
    team_id: str

    async def upsert(self, file: Any) -> None:
        values = attrs.asdict(file)
        statement = insert(vault_files).values(values).on_conflict_do_update(
            index_elements=["team_id", "path"], set_={k: v for k, v in values.items() if k not in ("team_id", "path")})
        await _write(self.conn, statement, "file")

    async def get(self, path: str) -> Any:
        row = (await self.conn.execute(self._mine().where(vault_files.c.path == path))).first()
        return mappers.row_to_vault_file(row) if row else None

    async def list(self, prefix: str | None = None) -> list[Any]:
        query = self._mine().order_by(vault_files.c.path)
        if prefix is not None:
            query = query.where(sa.or_(vault_files.c.path == prefix,
                                       vault_files.c.path.startswith(prefix + "/", autoescape=True)))
        return [mappers.row_to_vault_file(r) for r in await self.conn.execute(query)]

    async def attach(self, transaction_id: str, path: str, at: Any) -> None:
        await self.conn.execute(insert(transaction_files).values(
            team_id=self.team_id, transaction_id=transaction_id, path=path, attached_at=at).on_conflict_do_nothing())

    async def attached(self, transaction_id: str) -> list[Any]:
        tf = transaction_files.c
        query = self._mine().join(transaction_files, sa.and_(
            tf.team_id == vault_files.c.team_id, tf.path == vault_files.c.path)).where(
            tf.transaction_id == transaction_id).order_by(vault_files.c.path)
        return [mappers.row_to_vault_file(r) for r in await self.conn.execute(query)]

    def _mine(self) -> sa.Select[Any]:
        return sa.select(vault_files).where(vault_files.c.team_id == self.team_id)


@attrs.define
class PostgresUserRepository:
    conn: AsyncConnection

    async def add(self, user: User) -> None:
        await _write(self.conn, users.insert().values(mappers.user_values(user)), "user")

    async def get(self, id: str) -> User | None:
        row = (await self.conn.execute(sa.select(users).where(users.c.id == id))).first()
        return mappers.row_to_user(row) if row else None

    async def get_by_email(self, email: str) -> User | None:
        row = (await self.conn.execute(sa.select(users).where(users.c.email == email))).first()
        return mappers.row_to_user(row) if row else None

    async def update(self, user: User) -> None:
        await self.conn.execute(users.update().where(users.c.id == user.id).values(mappers.user_values(user)))

    async def teams_of(self, id: str) -> list[tuple[Team, Membership]]:
        """RLS shows a transaction with no team only the current user's memberships and their teams."""
        query = (sa.select(teams, *[c.label(f"m_{c.name}") for c in team_memberships.c])
                 .join(team_memberships, team_memberships.c.team_id == teams.c.id)
                 .where(team_memberships.c.user_id == id)
                 .order_by(team_memberships.c.created_at, team_memberships.c.team_id))
        return [(mappers.row_to_team(r), mappers.row_to_membership(r, prefix="m_"))
                for r in await self.conn.execute(query)]


@attrs.define
class PostgresTokenRepository:
    conn: AsyncConnection

    async def add(self, token: AuthToken) -> None:
        await _write(self.conn, auth_tokens.insert().values(attrs.asdict(token)), "token")

    async def get_by_hash(self, token_hash: str) -> AuthToken | None:
        row = (await self.conn.execute(sa.select(auth_tokens).where(auth_tokens.c.token_hash == token_hash))).first()
        return mappers.row_to_token(row) if row else None

    async def revoke(self, token_hash: str, at: Any) -> None:
        await self.conn.execute(auth_tokens.update().where(
            auth_tokens.c.token_hash == token_hash, auth_tokens.c.revoked_at.is_(None)).values(revoked_at=at))
