"""Membership and role are checked here, before a team's transaction is opened for the request's work."""
from __future__ import annotations

import attrs

from ...ports.unit_of_work import UnitOfWorkFactory
from ..model.errors import Forbidden, InvalidInput, NotFound
from ..model.ids import TeamId, UserId
from ..model.teams import Membership
from ..model.values import Permission
from ..policies.permissions import is_allowed


@attrs.frozen
class Actor:
    """A user acting inside one team, with the membership that grants what they may do."""

    user_id: UserId
    team_id: TeamId
    membership: Membership

    def require(self, permission: Permission) -> None:
        if not is_allowed(self.membership, permission):
            raise Forbidden(f"your role may not {permission.value}")


@attrs.define
class TeamAccess:
    uows: UnitOfWorkFactory

    async def resolve(self, user_id: UserId, team_id: TeamId | None) -> Actor:
        """The actor for `team_id`, or for the user's only team. Another team's id reads as not found."""
        async with self.uows.for_accounts(user_id) as uow:
            memberships = [m for _, m in await uow.users.teams_of(user_id)]
        return actor_in(user_id, memberships, team_id)


def actor_in(user_id: UserId, memberships: list[Membership], team_id: TeamId | None) -> Actor:
    """The actor for `team_id` among the user's memberships, or for their only team."""
    if team_id is None:
        if len(memberships) != 1:
            raise InvalidInput.single("x-team-id", f"header is required: you belong to {len(memberships)} teams")
        return Actor(user_id, memberships[0].team_id, memberships[0])
    for membership in memberships:
        if membership.team_id == team_id:
            return Actor(user_id, team_id, membership)
    raise NotFound("team", team_id)
