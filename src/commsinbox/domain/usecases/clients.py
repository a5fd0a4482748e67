"""The team's clients."""
from __future__ import annotations

import attrs

from ...ports.clock import Clock, IdGenerator
from ...ports.unit_of_work import UnitOfWorkFactory
from ..model import values
from ..model.clients import Client
from ..model.errors import NotFound
from ..model.ids import ClientId
from ..model.paging import Page, PageRequest
from ..model.values import Permission
from .access import Actor


@attrs.frozen
class ClientFields:
    name: str
    phone: str | None = None  # already E.164: numbers are normalised at the edge
    email: str | None = None


@attrs.define
class ClientService:
    uows: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator

    async def list(self, actor: Actor, page: PageRequest) -> Page[Client]:
        actor.require(Permission.CLIENTS_READ)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            return await uow.clients.list(page)

    async def get(self, actor: Actor, id: str) -> Client:
        actor.require(Permission.CLIENTS_READ)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            return await _client(uow, id)

    async def create(self, actor: Actor, fields: ClientFields) -> Client:
        actor.require(Permission.CLIENTS_WRITE)
        client = Client(ClientId(self.ids.new_id()), actor.team_id, values.non_empty(fields.name, "name"),
                        self.clock.now(), fields.phone, _email(fields.email))
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            await uow.clients.add(client)
            await uow.commit()
        return client

    async def update(self, actor: Actor, id: str, fields: ClientFields) -> Client:
        actor.require(Permission.CLIENTS_WRITE)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            client = await _client(uow, id)
            client.name = values.non_empty(fields.name, "name")
            client.phone = fields.phone
            client.email = _email(fields.email)
            await uow.clients.update(client)
            await uow.commit()
        return client

    async def delete(self, actor: Actor, id: str) -> None:
        actor.require(Permission.CLIENTS_DELETE)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            if not await uow.clients.delete(id):
                raise NotFound("client", id)
            await uow.commit()


async def _client(uow, id: str) -> Client:  # type: ignore[no-untyped-def]
    client = await uow.clients.get(id)
    if client is None:
        raise NotFound("client", id)
    return client


def _email(address: str | None) -> str | None:
    return values.email(address) if address else None
