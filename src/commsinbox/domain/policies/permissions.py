"""Who may do what in a team: the role → permission matrix (documented in docs/tenancy.md)."""
from __future__ import annotations

from ..model.teams import Membership
from ..model.values import Permission, Role

_ALL = frozenset(Permission)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: _ALL,
    Role.MANAGER: _ALL - {Permission.TEAM_UPDATE},
    Role.AGENT: frozenset({
        Permission.TEAM_READ, Permission.MEMBERS_READ, Permission.CLIENTS_READ, Permission.CLIENTS_WRITE,
        Permission.RECORDS_READ, Permission.VAULT_READ, Permission.VAULT_WRITE, Permission.ACCOUNTS_READ,
        Permission.INBOX_READ, Permission.INBOX_WRITE,
    }),
}


def permissions_of(membership: Membership) -> frozenset[Permission]:
    if membership.role is Role.CUSTOM:
        return membership.permissions
    return ROLE_PERMISSIONS[membership.role]


def is_allowed(membership: Membership, permission: Permission) -> bool:
    return permission in permissions_of(membership)


def may_assign_role(actor: Membership, role: Role) -> bool:
    """Only an owner makes or unmakes owners; members.manage is needed for everything else."""
    if not is_allowed(actor, Permission.MEMBERS_MANAGE):
        return False
    return role is not Role.OWNER or actor.role is Role.OWNER


def sees_thread(membership: Membership, assignee_id: str | None, agents_see_unassigned: bool) -> bool:
    """inbox.read_all sees every thread; others see the threads assigned to them, and the unassigned ones
    when the team lets them (`Team.agents_see_unassigned`)."""
    if is_allowed(membership, Permission.INBOX_READ_ALL):
        return True
    if assignee_id is None:
        return agents_see_unassigned
    return assignee_id == membership.user_id
