"""core.team.*, core.clients.*, core.orders/invoices/transactions/measurements.*, core.vault.*."""
from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

import attrs
import phonenumbers
from aiohttp import web

from ....domain.model.errors import InvalidInput
from ....domain.model.ids import UserId
from ....domain.model.paging import PageRequest
from ....domain.model.teams import Team
from ....domain.model.values import Permission, Role
from ....domain.usecases.access import Actor
from ....domain.usecases.clients import ClientFields
from ....domain.usecases.records import RecordFields, RecordKind
from ....domain.usecases.teams import TeamChanges
from ...container import Services
from .. import views
from ..keys import services_key, settings_key
from ..trpc import Procedure
from . import in_team


def ident(value: str, path: str = "id") -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidInput.single(path, "must be an id (a UUID)") from None


def e164(value: str | None, path: str = "phone") -> str | None:
    if not value:
        return None
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise InvalidInput.single(path, "must be a phone number in international format, e.g. +5511987654321")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def role_of(value: str, permissions: list[str] | None) -> tuple[Role, frozenset[Permission]]:
    try:
        role = Role(value)
        granted = frozenset(Permission(p) for p in permissions or [])
    except ValueError:
        raise InvalidInput.single("role" if value not in Role._value2member_map_ else "permissions",
                                  "must be one of " + ", ".join(
                                      Role if value not in Role._value2member_map_ else Permission)) from None
    return role, granted


def _services(request: web.Request) -> Services:
    return request.app[services_key]


@attrs.frozen
class IdInput:
    id: str


@attrs.frozen
class PageInput:
    cursor: str | None = None
    limit: int | None = None
    clientId: str | None = None  # noqa: N815 (wire name)


@attrs.frozen
class TeamUpdateInput:
    name: str | None = None
    baseCurrency: str | None = None  # noqa: N815
    timezone: str | None = None
    quietHours: str | None = None  # noqa: N815
    plan: str | None = None
    agentsSeeUnassigned: bool | None = None  # noqa: N815
    replyGraceMinutes: int | None = None  # noqa: N815
    consentKeywords: dict[str, Any] | None = None  # noqa: N815


@attrs.frozen
class InviteInput:
    email: str
    role: str
    permissions: list[str] | None = None


@attrs.frozen
class SetRoleInput:
    userId: str  # noqa: N815
    role: str
    permissions: list[str] | None = None


@attrs.frozen
class MemberInput:
    userId: str  # noqa: N815


@attrs.frozen
class ClientInput:
    name: str
    phone: str | None = None
    email: str | None = None


@attrs.frozen
class ClientUpdateInput:
    id: str
    name: str
    phone: str | None = None
    email: str | None = None


@attrs.frozen
class RecordInput:
    number: str | None = None
    clientId: str | None = None  # noqa: N815
    amount: str | None = None
    currency: str | None = None
    description: str | None = None
    name: str | None = None
    unit: str | None = None


@attrs.frozen
class VaultListInput:
    path: str | None = None


@attrs.frozen
class UploadInput:
    path: str
    contentBase64: str  # noqa: N815
    contentType: str  # noqa: N815


@attrs.frozen
class DownloadInput:
    path: str


# -- team ------------------------------------------------------------------------------------------------

async def team_get(request: web.Request, actor: Actor, _: None) -> dict[str, Any]:
    return await _team_view(request, actor, await _services(request).teams.get(actor))


async def team_update(request: web.Request, actor: Actor, inp: TeamUpdateInput) -> dict[str, Any]:
    changes = TeamChanges(inp.name, inp.baseCurrency, inp.timezone, inp.quietHours, inp.plan,
                          inp.agentsSeeUnassigned, reply_grace_minutes=inp.replyGraceMinutes,
                          consent_keywords=inp.consentKeywords)
    return await _team_view(request, actor, await _services(request).teams.update(actor, changes))


async def _team_view(request: web.Request, actor: Actor, team: Team) -> dict[str, Any]:
    keywords = await _services(request).teams.consent_keywords(actor)
    return {**views.team(team, str(request.app[settings_key].quiet_hours_default)),
            "consentKeywords": keywords.to_mapping()}


async def members_list(request: web.Request, actor: Actor, _: None) -> list[dict[str, Any]]:
    return [views.member(m) for m in await _services(request).teams.members(actor)]


async def members_invite(request: web.Request, actor: Actor, inp: InviteInput) -> dict[str, Any]:
    role, granted = role_of(inp.role, inp.permissions)
    return views.member(await _services(request).teams.invite(actor, inp.email, role, granted))


async def members_set_role(request: web.Request, actor: Actor, inp: SetRoleInput) -> dict[str, Any]:
    role, granted = role_of(inp.role, inp.permissions)
    member = await _services(request).teams.set_role(actor, UserId(ident(inp.userId, "userId")), role, granted)
    return views.member(member)


async def members_remove(request: web.Request, actor: Actor, inp: MemberInput) -> dict[str, Any]:
    await _services(request).teams.remove(actor, UserId(ident(inp.userId, "userId")))
    return {"ok": True}


# -- clients ---------------------------------------------------------------------------------------------

async def clients_list(request: web.Request, actor: Actor, inp: PageInput) -> dict[str, Any]:
    page = await _services(request).clients.list(actor, PageRequest.of(inp.cursor, inp.limit))
    return views.page(page, views.client)


async def clients_get(request: web.Request, actor: Actor, inp: IdInput) -> dict[str, Any]:
    return views.client(await _services(request).clients.get(actor, ident(inp.id)))


async def clients_create(request: web.Request, actor: Actor, inp: ClientInput) -> dict[str, Any]:
    fields = ClientFields(inp.name, e164(inp.phone), inp.email)
    return views.client(await _services(request).clients.create(actor, fields))


async def clients_update(request: web.Request, actor: Actor, inp: ClientUpdateInput) -> dict[str, Any]:
    fields = ClientFields(inp.name, e164(inp.phone), inp.email)
    return views.client(await _services(request).clients.update(actor, ident(inp.id), fields))


async def clients_delete(request: web.Request, actor: Actor, inp: IdInput) -> dict[str, Any]:
    await _services(request).clients.delete(actor, ident(inp.id))
    return {"ok": True}


# -- orders, invoices, transactions, measurements ----------------------------------------------------------

def _records(kind: RecordKind) -> dict[str, Procedure]:
    async def list_(request: web.Request, actor: Actor, inp: PageInput) -> dict[str, Any]:
        client_id = ident(inp.clientId, "clientId") if inp.clientId else None
        page = await _services(request).records.list(actor, kind, PageRequest.of(inp.cursor, inp.limit), client_id)
        return views.page(page, views.record)

    async def get(request: web.Request, actor: Actor, inp: IdInput) -> dict[str, Any]:
        return views.record(await _services(request).records.get(actor, kind, ident(inp.id)))

    async def create(request: web.Request, actor: Actor, inp: RecordInput) -> dict[str, Any]:
        client_id = ident(inp.clientId, "clientId") if inp.clientId else None
        fields = RecordFields(inp.number, client_id, inp.amount, inp.currency, inp.description, inp.name, inp.unit)
        return views.record(await _services(request).records.create(actor, kind, fields))

    base = f"core.{kind}s"
    return {f"{base}.list": in_team("query", PageInput, list_), f"{base}.get": in_team("query", IdInput, get),
            f"{base}.create": in_team("mutation", RecordInput, create)}


# -- vault -----------------------------------------------------------------------------------------------

async def vault_list(request: web.Request, actor: Actor, inp: VaultListInput) -> dict[str, Any]:
    return {"items": [views.vault_file(f) for f in await _services(request).vault.list(actor, inp.path)]}


async def vault_upload(request: web.Request, actor: Actor, inp: UploadInput) -> dict[str, Any]:
    try:
        data = base64.b64decode(inp.contentBase64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput.single("contentBase64", "must be base64") from None
    return views.vault_file(await _services(request).vault.upload(actor, inp.path, data, inp.contentType))


async def vault_download(request: web.Request, actor: Actor, inp: DownloadInput) -> dict[str, Any]:
    file, data = await _services(request).vault.download(actor, inp.path)
    return {**views.vault_file(file), "contentBase64": base64.b64encode(data).decode()}


@attrs.frozen
class AttachFileInput:
    id: str
    attachmentId: str | None = None  # noqa: N815 — a message's attachment, or
    path: str | None = None  # a vault file


async def transaction_attach(request: web.Request, actor: Actor, inp: AttachFileInput) -> dict[str, Any]:
    attachment = ident(inp.attachmentId, "attachmentId") if inp.attachmentId is not None else None
    file = await _services(request).vault.attach(actor, ident(inp.id), attachment_id=attachment, path=inp.path)
    return views.vault_file(file)


async def transaction_files(request: web.Request, actor: Actor, inp: IdInput) -> dict[str, Any]:
    return {"items": [views.vault_file(f) for f in await _services(request).vault.attached(actor, ident(inp.id))]}


PROCEDURES: dict[str, Procedure] = {
    "core.team.get": in_team("query", None, team_get),
    "core.team.update": in_team("mutation", TeamUpdateInput, team_update),
    "core.team.members.list": in_team("query", None, members_list),
    "core.team.members.invite": in_team("mutation", InviteInput, members_invite),
    "core.team.members.setRole": in_team("mutation", SetRoleInput, members_set_role),
    "core.team.members.remove": in_team("mutation", MemberInput, members_remove),
    "core.clients.list": in_team("query", PageInput, clients_list),
    "core.clients.get": in_team("query", IdInput, clients_get),
    "core.clients.create": in_team("mutation", ClientInput, clients_create),
    "core.clients.update": in_team("mutation", ClientUpdateInput, clients_update),
    "core.clients.delete": in_team("mutation", IdInput, clients_delete),
    **_records("order"), **_records("invoice"), **_records("transaction"), **_records("measurement"),
    "core.vault.list": in_team("query", VaultListInput, vault_list),
    "core.vault.upload": in_team("mutation", UploadInput, vault_upload),
    "core.vault.download": in_team("query", DownloadInput, vault_download),
    "core.transactions.attachFile": in_team("mutation", AttachFileInput, transaction_attach),
    "core.transactions.files": in_team("query", IdInput, transaction_files),
}
