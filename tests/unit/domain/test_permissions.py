from __future__ import annotations

import datetime as dt

import pytest

from commsinbox.domain.model.teams import Membership
from commsinbox.domain.model.values import Permission, Role
from commsinbox.domain.policies.permissions import is_allowed, may_assign_role, permissions_of

pytestmark = pytest.mark.unit
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def member(role: Role, *granted: Permission) -> Membership:
    return Membership("t", "u", role, NOW, frozenset(granted))  # type: ignore[arg-type]


def test_owner_may_do_everything_and_manager_all_but_team_settings() -> None:
    assert permissions_of(member(Role.OWNER)) == frozenset(Permission)
    assert permissions_of(member(Role.MANAGER)) == frozenset(Permission) - {Permission.TEAM_UPDATE}


def test_agent_works_with_clients_but_cannot_delete_or_manage() -> None:
    agent = member(Role.AGENT)
    assert is_allowed(agent, Permission.CLIENTS_WRITE) and is_allowed(agent, Permission.RECORDS_READ)
    for refused in (Permission.CLIENTS_DELETE, Permission.RECORDS_WRITE, Permission.MEMBERS_MANAGE,
                    Permission.TEAM_UPDATE):
        assert not is_allowed(agent, refused)


def test_a_custom_role_has_exactly_its_permissions() -> None:
    custom = member(Role.CUSTOM, Permission.VAULT_READ)
    assert permissions_of(custom) == {Permission.VAULT_READ}
    assert permissions_of(member(Role.AGENT, Permission.TEAM_UPDATE)) == permissions_of(member(Role.AGENT))


@pytest.mark.parametrize("actor, role, allowed", [
    (Role.OWNER, Role.OWNER, True), (Role.OWNER, Role.AGENT, True), (Role.MANAGER, Role.OWNER, False),
    (Role.MANAGER, Role.MANAGER, True), (Role.AGENT, Role.AGENT, False),
])
def test_only_owners_make_owners(actor: Role, role: Role, allowed: bool) -> None:
    assert may_assign_role(member(actor), role) is allowed
