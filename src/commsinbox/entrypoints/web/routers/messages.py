"""communications.messages.*: a thread's messages, sending (policies, idempotency key) and delivery status."""
from __future__ import annotations

from typing import Any

import attrs
from aiohttp import web

from ....domain.model.paging import PageRequest
from ....domain.model.threads import Attachment, Message
from ....domain.policies.decision import Deferred
from ....domain.usecases.access import Actor
from ....domain.usecases.outbound import SendRequest
from ....domain.usecases.outbound_content import TemplateUse
from ...container import Services
from .. import views
from ..keys import services_key
from ..trpc import Procedure
from . import in_team
from .core import IdInput, ident


@attrs.frozen
class ListInput:
    threadId: str  # noqa: N815
    cursor: str | None = None
    limit: int | None = None


@attrs.frozen
class TemplateInput:
    id: str
    variables: list[str] = attrs.field(factory=list)


@attrs.frozen
class SendInput:
    threadId: str  # noqa: N815
    idempotencyKey: str  # noqa: N815
    text: str | None = None
    attachmentIds: list[str] = attrs.field(factory=list)  # noqa: N815
    template: TemplateInput | None = None


def message_view(m: Message, attachments: tuple[Attachment, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {"id": m.id, "threadId": m.thread_id, "direction": m.direction.value, "type": m.type.value,
                           "content": m.content, "status": m.status.value,
                           "attachments": [_attachment(a) for a in attachments] or _sent_file(m),
                           "createdAt": m.created_at}
    if m.provider_message_id:
        out["providerMessageId"] = m.provider_message_id
        out["sentAt"] = m.sent_at
    for name, value in (("deliveredAt", m.delivered_at), ("readAt", m.read_at)):
        if value is not None:
            out[name] = value
    if m.error_code or m.error_message:
        out["error"] = {"code": m.error_code, "message": m.error_message}
    if isinstance(template := m.meta.get("template"), dict):
        out["template"] = {key: template.get(key) for key in ("id", "name", "language")}
    return out


def _attachment(a: Attachment) -> dict[str, Any]:
    return {"id": a.id, "contentType": a.content_type, "size": a.size, "checksum": a.checksum,
            "storagePath": a.storage_path, **({"error": a.error} if a.error else {})}


def _sent_file(m: Message) -> list[dict[str, Any]]:
    """A file we sent is the stored attachment it was sent from (no copy is made)."""
    media = m.meta.get("media")
    if not isinstance(media, dict):
        return []
    return [{"id": media.get("attachmentId"), "contentType": media.get("contentType"), "size": media.get("size"),
             "checksum": media.get("checksum"), "storagePath": media.get("storagePath")}]


def _services(request: web.Request) -> Services:
    return request.app[services_key]


async def messages_list(request: web.Request, actor: Actor, inp: ListInput) -> dict[str, Any]:
    page = await _services(request).outbound.list(actor, ident(inp.threadId, "threadId"),
                                                  PageRequest.of(inp.cursor, inp.limit))
    return views.page(page, lambda view: message_view(view.message, view.attachments))


async def messages_send(request: web.Request, actor: Actor, inp: SendInput) -> dict[str, Any]:
    services = _services(request)
    template = (TemplateUse(ident(inp.template.id, "template.id"), tuple(inp.template.variables))
                if inp.template is not None else None)
    attachments = tuple(ident(a, f"attachmentIds.{i}") for i, a in enumerate(inp.attachmentIds))
    queued = await services.outbound.send(actor, SendRequest(ident(inp.threadId, "threadId"), inp.idempotencyKey,
                                                             inp.text, template, attachments))
    decision: dict[str, Any] = {"outcome": "allowed"}
    if isinstance(queued.decision, Deferred):
        decision = {"outcome": "deferred", "until": queued.decision.until, "rule": queued.decision.rule}
    return {"message": message_view(queued.message), "decision": decision}


async def messages_delivery(request: web.Request, actor: Actor, inp: IdInput) -> dict[str, Any]:
    message, history = await _services(request).outbound.delivery(actor, ident(inp.id))
    return {"status": message.status.value, "history": [
        {"status": status, "at": at, **({"errorCode": code} if code else {})} for status, at, code in history]}


PROCEDURES: dict[str, Procedure] = {
    "communications.messages.list": in_team("query", ListInput, messages_list),
    "communications.messages.send": in_team("mutation", SendInput, messages_send),
    "communications.messages.deliveryStatus": in_team("query", IdInput, messages_delivery),
}
