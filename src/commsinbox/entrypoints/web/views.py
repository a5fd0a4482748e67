"""Output shapes of the API (camelCase wire names, per docs api-contract)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from ...domain.model.clients import Client
from ...domain.model.invoices import Invoice
from ...domain.model.measurements import Measurement
from ...domain.model.orders import Order
from ...domain.model.paging import Page
from ...domain.model.teams import Membership, Team
from ...domain.model.transactions import Transaction
from ...domain.model.users import User
from ...domain.model.vault import VaultFile
from ...domain.usecases.teams import Member


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def page(p: Page[Any], item: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"items": [item(i) for i in p.items]}
    if p.next_cursor:
        out["nextCursor"] = p.next_cursor
    return out


def team(t: Team, default_quiet_hours: str) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "baseCurrency": t.base_currency, "timezone": t.timezone,
            "quietHours": str(t.quiet_hours) if t.quiet_hours else default_quiet_hours, "plan": t.plan,
            "agentsSeeUnassigned": t.agents_see_unassigned,
            "replyGraceMinutes": int(t.reply_grace.total_seconds() // 60) if t.reply_grace else 0,
            "createdAt": t.created_at}


def team_with_role(t: Team, m: Membership) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "role": m.role.value}


def user(u: User) -> dict[str, Any]:
    return {"id": u.id, "email": u.email, "fullName": u.full_name}


def member(m: Member) -> dict[str, Any]:
    out = {"userId": m.membership.user_id, "email": m.email, "role": m.membership.role.value,
           "createdAt": m.membership.created_at}
    if m.membership.permissions:
        out["permissions"] = sorted(p.value for p in m.membership.permissions)
    return out


def client(c: Client) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "phone": c.phone, "email": c.email, "createdAt": c.created_at}


def record(r: Order | Invoice | Transaction | Measurement) -> dict[str, Any]:
    out: dict[str, Any] = {"id": r.id, "clientId": r.client_id, "createdAt": r.created_at}
    if isinstance(r, Order | Invoice):
        out.update(number=r.number, amount=_money(r.amount), currency=r.currency)
    elif isinstance(r, Transaction):
        out.update(amount=_money(r.amount), currency=r.currency, description=r.description)
    else:
        out.update(name=r.name, value=_money(r.value), unit=r.unit)
    return out


def vault_file(f: VaultFile) -> dict[str, Any]:
    return {"path": f.path, "contentType": f.content_type, "size": f.size, "checksum": f.checksum,
            "createdAt": f.created_at}
