"""communications.templates.*: a team's WhatsApp message templates (see domain/usecases/templates.py)."""
from __future__ import annotations

from typing import Any

import attrs
from aiohttp import web

from ....domain.model.templates import Template
from ....domain.usecases.access import Actor
from ....domain.usecases.templates import TemplateChanges, TemplateDraft
from ..keys import services_key
from ..trpc import Procedure
from . import in_team
from .core import IdInput, ident


@attrs.frozen
class ListInput:
    accountId: str | None = None  # noqa: N815


@attrs.frozen
class CreateInput:
    accountId: str  # noqa: N815
    name: str
    language: str
    body: str
    category: str = "utility"
    providerTemplateId: str | None = None  # noqa: N815


@attrs.frozen
class UpdateInput:
    id: str
    name: str | None = None
    language: str | None = None
    body: str | None = None
    category: str | None = None
    providerTemplateId: str | None = None  # noqa: N815


def view(t: Template) -> dict[str, Any]:
    out: dict[str, Any] = {"id": t.id, "accountId": t.account_id, "name": t.name, "language": t.language,
                           "category": t.category.value, "body": t.body, "variables": t.variable_count,
                           "status": t.status.value, "createdAt": t.created_at, "updatedAt": t.updated_at}
    if t.provider_template_id:
        out["providerTemplateId"] = t.provider_template_id
    if t.rejection_reason:
        out["rejectionReason"] = t.rejection_reason
    return out


async def list_(request: web.Request, actor: Actor, inp: ListInput) -> list[dict[str, Any]]:
    account = ident(inp.accountId, "accountId") if inp.accountId is not None else None
    return [view(t) for t in await request.app[services_key].templates.list(actor, account)]


async def create(request: web.Request, actor: Actor, inp: CreateInput) -> dict[str, Any]:
    draft = TemplateDraft(ident(inp.accountId, "accountId"), inp.name, inp.language, inp.body, inp.category,
                          inp.providerTemplateId)
    return view(await request.app[services_key].templates.create(actor, draft))


async def update(request: web.Request, actor: Actor, inp: UpdateInput) -> dict[str, Any]:
    changes = TemplateChanges(inp.name, inp.language, inp.body, inp.category, inp.providerTemplateId)
    return view(await request.app[services_key].templates.update(actor, ident(inp.id), changes))


async def delete(request: web.Request, actor: Actor, inp: IdInput) -> dict[str, Any]:
    await request.app[services_key].templates.delete(actor, ident(inp.id))
    return {"ok": True}


async def submit(request: web.Request, actor: Actor, inp: IdInput) -> dict[str, Any]:
    return view(await request.app[services_key].templates.submit(actor, ident(inp.id)))


async def get(request: web.Request, actor: Actor, inp: IdInput) -> dict[str, Any]:
    return view(await request.app[services_key].templates.get(actor, ident(inp.id)))


PROCEDURES: dict[str, Procedure] = {
    "communications.templates.list": in_team("query", ListInput, list_),
    "communications.templates.get": in_team("query", IdInput, get),
    "communications.templates.create": in_team("mutation", CreateInput, create),
    "communications.templates.update": in_team("mutation", UpdateInput, update),
    "communications.templates.delete": in_team("mutation", IdInput, delete),
    "communications.templates.submit": in_team("mutation", IdInput, submit),
}
