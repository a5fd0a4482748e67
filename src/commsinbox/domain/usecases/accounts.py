"""Users, passwords, sessions and API tokens."""
from __future__ import annotations

import datetime as dt
import asyncio
import hashlib
import uuid

import attrs

from ...ports.clock import Clock, IdGenerator, TokenGenerator
from ...ports.security import ExternalTokenVerifier, LoginThrottle, PasswordHasher
from ...ports.unit_of_work import AccountUnitOfWork, UnitOfWorkFactory
from ..model import values
from ..model.errors import Conflict, InvalidInput, NotFound, TooManyAttempts, Unauthenticated
from ..model.ids import TeamId, TokenId, UserId
from ..model.teams import Membership, Team
from ..model.users import AuthToken, TokenKind, User
from ..model.values import Role

SESSION_LIFETIME = dt.timedelta(days=14)
MIN_PASSWORD = 10
IP_FACTOR = 10  # many people may share one office IP


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@attrs.frozen
class LoginResult:
    token: str
    user: User
    teams: list[tuple[Team, Membership]]


@attrs.define
class AccountService:
    uows: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    tokens: TokenGenerator
    hasher: PasswordHasher
    throttle: LoginThrottle
    external: ExternalTokenVerifier | None = None
    login_limit: int = 10  # failed logins per email per throttle window; per client IP it is 10 times that
    _decoy_hash: str | None = attrs.field(default=None, init=False, repr=False)

    async def create_user(self, email: str, password: str, *, full_name: str | None = None,
                          team: str | None = None, role: Role = Role.OWNER) -> tuple[User, TeamId | None]:
        """Creates the user (an existing email is a conflict). `team` is the id of a team to join, or the
        name of a new team to create; the user joins it with `role`."""
        address = values.email(email)
        _check_password(password)
        now = self.clock.now()
        hashed = await asyncio.to_thread(self.hasher.hash, password)
        user = User(UserId(self.ids.new_id()), address, now, full_name, hashed)
        async with self.uows.for_accounts(user.id) as uow:
            if await uow.users.get_by_email(address):
                raise Conflict(f"a user with email {address} already exists")
            await uow.users.add(user)
            await uow.commit()
        if team is None:
            return user, None
        existing = _as_uuid(team)
        team_id = TeamId(existing or self.ids.new_id())
        async with self.uows.for_team(team_id, user.id) as team_uow:
            if existing is None:
                await team_uow.teams.add(Team.create(team_id, values.non_empty(team, "team"), now))
            elif await team_uow.teams.get(team_id) is None:
                raise NotFound("team", team)
            await team_uow.members.add(Membership(team_id, user.id, role, now))
            await team_uow.commit()
        return user, team_id

    async def login(self, email: str, password: str, client_ip: str) -> LoginResult:
        address = email.strip().lower()
        keys = ((f"email:{address}", self.login_limit), (f"ip:{client_ip}", self.login_limit * IP_FACTOR))
        for key, limit in keys:
            wait = await self.throttle.blocked_for(key, limit)
            if wait:
                raise TooManyAttempts(wait)
        async with self.uows.for_accounts() as uow:
            user = await uow.users.get_by_email(address)
        # scrypt runs off the event loop, and also for an unknown email, so timing does not tell which it was
        stored = user.password_hash if user is not None and user.password_hash else self._decoy()
        if not await asyncio.to_thread(self.hasher.verify, password, stored) or user is None:
            for key, _ in keys:
                await self.throttle.record_failure(key)
            raise Unauthenticated("wrong email or password")
        await self.throttle.reset(keys[0][0])
        _, token = await self._issue(user.id, TokenKind.SESSION, None, SESSION_LIFETIME)
        async with self.uows.for_accounts(user.id) as uow:
            teams = await uow.users.teams_of(user.id)
        return LoginResult(token, user, teams)

    def _decoy(self) -> str:
        if self._decoy_hash is None:
            self._decoy_hash = self.hasher.hash(self.tokens.new_token())
        return self._decoy_hash

    async def logout(self, token: str) -> None:
        async with self.uows.for_accounts() as uow:
            await uow.tokens.revoke(token_hash(token), self.clock.now())
            await uow.commit()

    async def authenticate(self, token: str) -> User:
        """The user a bearer token (session, API token or verified external JWT) belongs to."""
        async with self.uows.for_accounts() as uow:
            return await self._user_of(uow, token)

    async def authenticate_member(self, token: str) -> tuple[User, list[Membership]]:
        """The token's user and their memberships, in one transaction (what every team procedure needs first)."""
        async with self.uows.for_accounts(read_only=True) as uow:
            user = await self._user_of(uow, token)
            await uow.act_as(user.id)
            return user, [m for _, m in await uow.users.teams_of(user.id)]

    async def _user_of(self, uow: AccountUnitOfWork, token: str) -> User:
        stored = await uow.tokens.get_by_hash(token_hash(token))
        if stored is not None and stored.is_valid(self.clock.now()):
            user = await uow.users.get(stored.user_id)
            if user is not None:
                return user
        email = self.external.verify(token) if self.external and stored is None else None
        user = await uow.users.get_by_email(email) if email else None
        if user is None:
            raise Unauthenticated("missing, expired or unknown credentials")
        return user

    async def create_api_token(self, user_id: UserId, name: str) -> tuple[TokenId, str]:
        values.non_empty(name, "name", 100)
        record, token = await self._issue(user_id, TokenKind.API, name.strip(), None)
        return record.id, token

    async def teams_of(self, user_id: UserId) -> list[tuple[Team, Membership]]:
        async with self.uows.for_accounts(user_id) as uow:
            return await uow.users.teams_of(user_id)

    async def _issue(self, user_id: UserId, kind: TokenKind, name: str | None,
                     lifetime: dt.timedelta | None) -> tuple[AuthToken, str]:
        token = self.tokens.new_token()
        now = self.clock.now()
        record = AuthToken(TokenId(self.ids.new_id()), user_id, kind, token_hash(token), now, name,
                           now + lifetime if lifetime else None)
        async with self.uows.for_accounts(user_id) as uow:
            await uow.tokens.add(record)
            await uow.commit()
        return record, token


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD or len(password) > 1024:
        raise InvalidInput.single("password", f"must be {MIN_PASSWORD} to 1024 characters")


def _as_uuid(text: str) -> str | None:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None
