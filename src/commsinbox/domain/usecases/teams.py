"""The team's settings and its members."""
from __future__ import annotations

from collections.abc import Mapping

import attrs

from ...ports.clock import Clock, IdGenerator
from ...ports.unit_of_work import UnitOfWorkFactory
from ..model import audit, values
from ..model.audit import AuditEvent
from ..model.consent import KEYWORDS_SETTING, ConsentKeywords, keyword_overrides, team_keywords
from ..model.errors import Conflict, Forbidden, InvalidInput, NotFound
from ..model.ids import UserId
from ..model.teams import MAX_REPLY_GRACE_MINUTES, PLANS, Membership, Team
from ..model.users import User
from ..model.values import Permission, QuietHours, Role
from ..policies.permissions import may_assign_role
from .access import Actor


@attrs.frozen
class TeamChanges:
    name: str | None = None
    base_currency: str | None = None
    timezone: str | None = None
    quiet_hours: str | None = None
    plan: str | None = None
    agents_see_unassigned: bool | None = None
    reply_grace_minutes: int | None = None
    consent_keywords: Mapping[str, object] | None = None  # per language, replacing that language's defaults


@attrs.frozen
class Member:
    membership: Membership
    email: str


@attrs.define
class TeamService:
    uows: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator

    async def get(self, actor: Actor) -> Team:
        actor.require(Permission.TEAM_READ)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            team = await uow.teams.get(actor.team_id)
        if team is None:
            raise NotFound("team", actor.team_id)
        return team

    async def update(self, actor: Actor, changes: TeamChanges) -> Team:
        actor.require(Permission.TEAM_UPDATE)
        if changes.plan is not None and changes.plan not in PLANS:
            raise InvalidInput.single("plan", f"must be one of {', '.join(PLANS)}")
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            team = await uow.teams.get(actor.team_id)
            if team is None:
                raise NotFound("team", actor.team_id)
            if changes.name is not None:
                team.name = values.non_empty(changes.name, "name")
            if changes.base_currency is not None:
                team.base_currency = values.currency(changes.base_currency, "baseCurrency")
            if changes.timezone is not None:
                team.timezone = values.timezone(changes.timezone)
            if changes.quiet_hours is not None:
                team.quiet_hours = QuietHours.parse(changes.quiet_hours)
            if changes.plan is not None:
                team.plan = changes.plan
            if changes.agents_see_unassigned is not None:
                team.agents_see_unassigned = changes.agents_see_unassigned
            if changes.reply_grace_minutes is not None:
                team.reply_grace_minutes = _reply_grace(changes.reply_grace_minutes)
            if changes.consent_keywords is not None:
                overrides, now = keyword_overrides(changes.consent_keywords), self.clock.now()
                await uow.settings.put(KEYWORDS_SETTING, overrides, now)
                await uow.audit.append(AuditEvent(audit.user_actor(actor.user_id), audit.CONSENT_KEYWORDS_CHANGED,
                                                  f"team:{actor.team_id}", now, {KEYWORDS_SETTING: overrides}))
            await uow.teams.update(team)
            await uow.commit()
        return team

    async def consent_keywords(self, actor: Actor) -> ConsentKeywords:
        """The STOP / START words in force: the defaults, with the languages the team configured replaced."""
        actor.require(Permission.TEAM_READ)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            return team_keywords(await uow.settings.get(KEYWORDS_SETTING))

    async def members(self, actor: Actor) -> list[Member]:
        actor.require(Permission.MEMBERS_READ)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            memberships = await uow.members.list()
        async with self.uows.for_accounts(actor.user_id) as accounts:
            users = [await accounts.users.get(m.user_id) for m in memberships]
        return [Member(m, u.email) for m, u in zip(memberships, users, strict=True) if u is not None]

    async def invite(self, actor: Actor, email: str, role: Role,
                     permissions: frozenset[Permission] = frozenset()) -> Member:
        """Adds a member by email; an unknown email becomes an invited user who cannot log in yet."""
        self._check_grant(actor, role)
        address = values.email(email)
        granted = _custom(role, permissions)
        now = self.clock.now()
        async with self.uows.for_accounts(actor.user_id) as accounts:
            user = await accounts.users.get_by_email(address)
            if user is None:
                user = User(UserId(self.ids.new_id()), address, now)
                await accounts.users.add(user)
                await accounts.commit()
        membership = Membership(actor.team_id, user.id, role, now, granted)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            if await uow.members.get(user.id):
                raise Conflict(f"{address} is already a member of this team")
            await uow.members.add(membership)
            await uow.commit()
        return Member(membership, address)

    async def set_role(self, actor: Actor, user_id: UserId, role: Role,
                       permissions: frozenset[Permission] = frozenset()) -> Member:
        self._check_grant(actor, role)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            current = await self._member(uow, user_id)
            self._check_grant(actor, current.role)
            if current.role is Role.OWNER and role is not Role.OWNER:
                await self._keep_an_owner(uow)
            updated = attrs.evolve(current, role=role, permissions=_custom(role, permissions))
            await uow.members.update(updated)
            await uow.commit()
        return await self._with_email(actor, updated)

    async def remove(self, actor: Actor, user_id: UserId) -> None:
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            current = await self._member(uow, user_id)
            if user_id != actor.user_id:
                self._check_grant(actor, current.role)
            if current.role is Role.OWNER:
                await self._keep_an_owner(uow)
            await uow.members.remove(user_id)
            await uow.commit()

    @staticmethod
    def _check_grant(actor: Actor, role: Role) -> None:
        if not may_assign_role(actor.membership, role):
            raise Forbidden(f"your role may not manage {role.value} members")

    @staticmethod
    async def _member(uow, user_id: UserId) -> Membership:  # type: ignore[no-untyped-def]
        membership = await uow.members.get(user_id)
        if membership is None:
            raise NotFound("member", user_id)
        return membership

    @staticmethod
    async def _keep_an_owner(uow) -> None:  # type: ignore[no-untyped-def]
        await uow.teams.lock()  # two owners leaving at once must not both see the other one stay
        owners = [m for m in await uow.members.list() if m.role is Role.OWNER]
        if len(owners) <= 1:
            raise Conflict("a team must keep at least one owner")

    async def _with_email(self, actor: Actor, membership: Membership) -> Member:
        async with self.uows.for_accounts(actor.user_id) as accounts:
            user = await accounts.users.get(membership.user_id)
        return Member(membership, user.email if user else "")


def _custom(role: Role, permissions: frozenset[Permission]) -> frozenset[Permission]:
    if role is Role.CUSTOM and not permissions:
        raise InvalidInput.single("permissions", "a custom role needs at least one permission")
    return permissions if role is Role.CUSTOM else frozenset()


def _reply_grace(minutes: int) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 <= minutes <= MAX_REPLY_GRACE_MINUTES:
        raise InvalidInput.single("replyGraceMinutes", f"must be a whole number of minutes from 0 to "
                                                       f"{MAX_REPLY_GRACE_MINUTES}")
    return minutes
