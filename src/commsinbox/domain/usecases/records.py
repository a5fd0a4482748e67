"""Orders, invoices, transactions and measurements: the business records conversations link to."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

import attrs

from ...ports.clock import Clock, IdGenerator
from ...ports.repositories import RecordRepository
from ...ports.unit_of_work import TeamUnitOfWork, UnitOfWorkFactory
from ..model import values
from ..model.errors import InvalidInput, NotFound
from ..model.invoices import Invoice
from ..model.measurements import Measurement
from ..model.orders import Order
from ..model.paging import Page, PageRequest
from ..model.transactions import Transaction
from ..model.values import Permission
from .access import Actor

RecordKind = Literal["order", "invoice", "transaction", "measurement"]


@attrs.frozen
class RecordFields:
    number: str | None = None
    client_id: str | None = None
    amount: str | None = None
    currency: str | None = None
    description: str | None = None
    name: str | None = None
    unit: str | None = None


@attrs.define
class RecordService:
    uows: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator

    async def list(self, actor: Actor, kind: RecordKind, page: PageRequest,
                   client_id: str | None = None) -> Page[Any]:
        actor.require(Permission.RECORDS_READ)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            return await _repo(uow, kind).list(page, client_id=client_id)

    async def get(self, actor: Actor, kind: RecordKind, id: str) -> Any:
        actor.require(Permission.RECORDS_READ)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            record = await _repo(uow, kind).get(id)
        if record is None:
            raise NotFound(kind, id)
        return record

    async def create(self, actor: Actor, kind: RecordKind, fields: RecordFields) -> Any:
        actor.require(Permission.RECORDS_WRITE)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            if fields.client_id is not None and await uow.clients.get(fields.client_id) is None:
                raise NotFound("client", fields.client_id)
            record = self._build(actor, kind, fields)
            await _repo(uow, kind).add(record)
            await uow.commit()
        return record

    def _build(self, actor: Actor, kind: RecordKind, f: RecordFields) -> Any:
        common = {"id": self.ids.new_id(), "team_id": actor.team_id, "created_at": self.clock.now()}
        if kind in ("order", "invoice"):
            money = _money(f, required=False)
            cls = Order if kind == "order" else Invoice
            return cls(number=values.non_empty(f.number or "", "number", 64), client_id=f.client_id,
                       amount=money[0], currency=money[1], **common)
        if kind == "transaction":
            amount, currency = _money(f, required=True)
            return Transaction(amount=amount, currency=currency, client_id=f.client_id,  # type: ignore[arg-type]
                               description=f.description, **common)
        if f.client_id is None:
            raise InvalidInput.single("clientId", "is required for a measurement")
        return Measurement(client_id=f.client_id, name=values.non_empty(f.name or "", "name", 100),  # type: ignore[arg-type]
                           value=values.amount(f.amount or "", "value"), unit=f.unit, **common)


def _money(f: RecordFields, *, required: bool) -> tuple[Decimal | None, str | None]:
    if f.amount is None and f.currency is None and not required:
        return None, None
    if f.amount is None or f.currency is None:
        missing = "amount" if f.amount is None else "currency"
        raise InvalidInput.single(missing, "is required with " + ("currency" if missing == "amount" else "amount"))
    return values.amount(f.amount), values.currency(f.currency)


def _repo(uow: TeamUnitOfWork, kind: RecordKind) -> RecordRepository[Any]:
    return {"order": uow.orders, "invoice": uow.invoices, "transaction": uow.transactions,
            "measurement": uow.measurements}[kind]
