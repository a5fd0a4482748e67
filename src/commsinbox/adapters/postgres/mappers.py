"""Explicit row ↔ aggregate mappers (never `**row` into a domain class)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError

from ...domain.model.clients import Client
from ...domain.model.invoices import Invoice
from ...domain.model.measurements import Measurement
from ...domain.model.orders import Order
from ...domain.model.teams import Membership, Team
from ...domain.model.transactions import Transaction
from ...domain.model.users import AuthToken, TokenKind, User
from ...domain.model.values import Permission, QuietHours, Role
from ...domain.model.vault import VaultFile


def unique_detail(exc: IntegrityError) -> str:
    diag = getattr(exc.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or "unique key"
    return {"uq_orders_team_id_number": "order number", "uq_invoices_team_id_number": "invoice number",
            "uq_users_email": "email"}.get(constraint, constraint)


def team_values(team: Team) -> dict[str, Any]:
    return {"id": team.id, "name": team.name, "base_currency": team.base_currency, "timezone": team.timezone,
            "quiet_hours": str(team.quiet_hours) if team.quiet_hours else None, "plan": team.plan,
            "agents_see_unassigned": team.agents_see_unassigned,
            "reply_grace_minutes": team.reply_grace_minutes, "created_at": team.created_at, "version": team.version}


def row_to_team(r: Any) -> Team:
    return Team(id=r.id, name=r.name, base_currency=r.base_currency, timezone=r.timezone, plan=r.plan,
                created_at=r.created_at, quiet_hours=QuietHours.parse(r.quiet_hours) if r.quiet_hours else None,
                agents_see_unassigned=r.agents_see_unassigned,
                reply_grace_minutes=r.reply_grace_minutes, version=r.version)


def membership_values(m: Membership) -> dict[str, Any]:
    return {"team_id": m.team_id, "user_id": m.user_id, "role": m.role.value, "created_at": m.created_at,
            "permissions": sorted(p.value for p in m.permissions)}


def row_to_membership(r: Any, prefix: str = "") -> Membership:
    def get(name: str) -> Any:
        return getattr(r, prefix + name)

    return Membership(team_id=get("team_id"), user_id=get("user_id"), role=Role(get("role")),
                      created_at=get("created_at"), permissions=frozenset(Permission(p) for p in get("permissions")))


def user_values(u: User) -> dict[str, Any]:
    return {"id": u.id, "email": u.email, "full_name": u.full_name, "password_hash": u.password_hash,
            "created_at": u.created_at}


def row_to_user(r: Any) -> User:
    return User(id=r.id, email=r.email, created_at=r.created_at, full_name=r.full_name,
                password_hash=r.password_hash)


def row_to_token(r: Any) -> AuthToken:
    return AuthToken(id=r.id, user_id=r.user_id, kind=TokenKind(r.kind), token_hash=r.token_hash,
                     created_at=r.created_at, name=r.name, expires_at=r.expires_at, revoked_at=r.revoked_at)


def client_values(c: Client) -> dict[str, Any]:
    return {"id": c.id, "team_id": c.team_id, "name": c.name, "phone": c.phone, "email": c.email,
            "created_at": c.created_at}


def row_to_client(r: Any) -> Client:
    return Client(id=r.id, team_id=r.team_id, name=r.name, created_at=r.created_at, phone=r.phone, email=r.email)


def numbered_values(o: Order | Invoice) -> dict[str, Any]:
    return {"id": o.id, "team_id": o.team_id, "number": o.number, "client_id": o.client_id, "amount": o.amount,
            "currency": o.currency, "created_at": o.created_at}


def row_to_numbered(cls: type[Order] | type[Invoice]) -> Callable[[Any], Any]:
    """Orders and invoices share their columns: a number unique in the team, an optional client and money."""
    def convert(r: Any) -> Order | Invoice:
        return cls(id=r.id, team_id=r.team_id, number=r.number, created_at=r.created_at, client_id=r.client_id,
                   amount=r.amount, currency=r.currency)

    return convert


def transaction_values(t: Transaction) -> dict[str, Any]:
    return {"id": t.id, "team_id": t.team_id, "client_id": t.client_id, "amount": t.amount, "currency": t.currency,
            "description": t.description, "created_at": t.created_at}


def row_to_transaction(r: Any) -> Transaction:
    return Transaction(id=r.id, team_id=r.team_id, amount=r.amount, currency=r.currency, created_at=r.created_at,
                       client_id=r.client_id, description=r.description)


def measurement_values(m: Measurement) -> dict[str, Any]:
    return {"id": m.id, "team_id": m.team_id, "client_id": m.client_id, "name": m.name, "value": m.value,
            "unit": m.unit, "created_at": m.created_at}


def row_to_measurement(r: Any) -> Measurement:
    return Measurement(id=r.id, team_id=r.team_id, client_id=r.client_id, name=r.name, value=r.value,
                       created_at=r.created_at, unit=r.unit)


def row_to_vault_file(r: Any) -> VaultFile:
    return VaultFile(team_id=r.team_id, path=r.path, content_type=r.content_type, size=r.size, checksum=r.checksum,
                     created_at=r.created_at)
