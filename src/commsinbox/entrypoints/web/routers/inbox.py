"""communications.threads.* and communications.labels.*: the agent's daily work on the inbox."""
from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
from aiohttp import web

from ....domain.model.errors import InvalidInput
from ....domain.model.labels import Label, ThreadFilter, ThreadLink, ThreadView
from ....domain.model.paging import PageRequest
from ....domain.usecases.access import Actor
from ....domain.usecases.inbox import record_type
from ...container import Services
from .. import views
from ..keys import services_key
from ..trpc import Procedure
from . import in_team
from .core import IdInput, ident


@attrs.frozen
class ThreadListInput:
    status: str | None = None
    labelIds: list[str] | None = None  # noqa: N815 (wire names)
    assigneeId: str | None = None  # noqa: N815
    accountId: str | None = None  # noqa: N815
    contactId: str | None = None  # noqa: N815
    recordType: str | None = None  # noqa: N815
    recordId: str | None = None  # noqa: N815
    unread: bool | None = None
    query: str | None = None
    cursor: str | None = None
    limit: int | None = None


@attrs.frozen
class AssignInput:
    id: str
    userId: str  # noqa: N815


@attrs.frozen
class StatusInput:
    id: str
    status: str
    snoozedUntil: Any = None  # noqa: N815 — a superjson Date, or an ISO 8601 string with its offset


@attrs.frozen
class LinkInput:
    id: str
    recordType: str  # noqa: N815
    recordId: str  # noqa: N815


@attrs.frozen
class LabelCreateInput:
    name: str


@attrs.frozen
class LabelUpdateInput:
    id: str
    name: str


@attrs.frozen
class LabelThreadInput:
    id: str
    threadId: str  # noqa: N815


def label_view(label: Label) -> dict[str, Any]:
    return {"id": label.id, "name": label.name}


def thread_view(v: ThreadView) -> dict[str, Any]:
    t, c = v.thread, v.contact
    contact: dict[str, Any] = {"id": c.id, "externalId": t.external_contact_id}
    if c.display_name:
        contact["displayName"] = c.display_name
    if c.phone:
        contact["phone"] = c.phone
    out: dict[str, Any] = {
        "id": t.id, "accountId": t.account_id, "channel": t.channel.value, "status": t.status.value,
        "contact": contact, "lastMessageAt": t.last_message_at, "unreadCount": t.unread_count,
        "labels": [label_view(label) for label in v.labels],
        "links": [{"recordType": k.record_type.value, "recordId": k.record_id} for k in v.links]}
    if t.assignee_id:
        out["assigneeId"] = t.assignee_id
    if t.snoozed_until:
        out["snoozedUntil"] = t.snoozed_until
    return out


def _services(request: web.Request) -> Services:
    return request.app[services_key]


def _opt(value: str | None, path: str) -> str | None:
    return ident(value, path) if value is not None else None


def _stamp(value: Any, path: str = "snoozedUntil") -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        stamp = value
    elif isinstance(value, str):
        try:
            stamp = dt.datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput.single(path, "must be an ISO 8601 date and time") from None
    else:
        raise InvalidInput.single(path, "must be a date and time")
    if stamp is not None and stamp.tzinfo is None:
        raise InvalidInput.single(path, "must carry a time zone offset")
    return stamp


def _filter(inp: ThreadListInput) -> ThreadFilter:
    if (inp.recordType is None) != (inp.recordId is None):
        raise InvalidInput.single("recordId" if inp.recordId is None else "recordType",
                                  "is required with " + ("recordType" if inp.recordId is None else "recordId"))
    link = ThreadLink(record_type(inp.recordType), ident(inp.recordId, "recordId")) \
        if inp.recordType is not None and inp.recordId is not None else None
    labels = tuple(ident(x, f"labelIds[{i}]") for i, x in enumerate(inp.labelIds or ()))
    return ThreadFilter(inp.status, labels, _opt(inp.assigneeId, "assigneeId"), _opt(inp.accountId, "accountId"),
                        _opt(inp.contactId, "contactId"), inp.unread, link, _query(inp.query))


def _query(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    if len(text) > 200:
        raise InvalidInput.single("query", "must be at most 200 characters")
    return text.strip()


async def threads_list(request: web.Request, actor: Actor, inp: ThreadListInput) -> dict[str, Any]:
    page = await _services(request).inbox.list(actor, _filter(inp), PageRequest.of(inp.cursor, inp.limit))
    return views.page(page, thread_view)


async def threads_get(request: web.Request, actor: Actor, inp: IdInput) -> dict[str, Any]:
    return thread_view(await _services(request).inbox.get(actor, ident(inp.id)))


async def threads_assign(request: web.Request, actor: Actor, inp: AssignInput) -> dict[str, Any]:
    return thread_view(await _services(request).inbox.assign(actor, ident(inp.id), ident(inp.userId, "userId")))


async def threads_unassign(request: web.Request, actor: Actor, inp: IdInput) -> dict[str, Any]:
    return thread_view(await _services(request).inbox.assign(actor, ident(inp.id), None))


async def threads_set_status(request: web.Request, actor: Actor, inp: StatusInput) -> dict[str, Any]:
    view = await _services(request).inbox.set_status(actor, ident(inp.id), inp.status, _stamp(inp.snoozedUntil))
    return thread_view(view)


async def threads_mark_read(request: web.Request, actor: Actor, inp: IdInput) -> dict[str, Any]:
    return thread_view(await _services(request).inbox.mark_read(actor, ident(inp.id)))


async def threads_link(request: web.Request, actor: Actor, inp: LinkInput) -> dict[str, Any]:
    view = await _services(request).inbox.link(actor, ident(inp.id), inp.recordType, ident(inp.recordId, "recordId"))
    return thread_view(view)


async def threads_unlink(request: web.Request, actor: Actor, inp: LinkInput) -> dict[str, Any]:
    view = await _services(request).inbox.unlink(actor, ident(inp.id), inp.recordType,
                                                 ident(inp.recordId, "recordId"))
    return thread_view(view)


async def labels_list(request: web.Request, actor: Actor, _: None) -> list[dict[str, Any]]:
    return [label_view(x) for x in await _services(request).labels.list(actor)]


async def labels_create(request: web.Request, actor: Actor, inp: LabelCreateInput) -> dict[str, Any]:
    return label_view(await _services(request).labels.create(actor, inp.name))


async def labels_update(request: web.Request, actor: Actor, inp: LabelUpdateInput) -> dict[str, Any]:
    return label_view(await _services(request).labels.update(actor, ident(inp.id), inp.name))


async def labels_delete(request: web.Request, actor: Actor, inp: IdInput) -> dict[str, Any]:
    return label_view(await _services(request).labels.delete(actor, ident(inp.id)))


async def labels_apply(request: web.Request, actor: Actor, inp: LabelThreadInput) -> dict[str, Any]:
    label = await _services(request).labels.apply(actor, ident(inp.id), ident(inp.threadId, "threadId"))
    return label_view(label)


async def labels_remove(request: web.Request, actor: Actor, inp: LabelThreadInput) -> dict[str, Any]:
    label = await _services(request).labels.remove(actor, ident(inp.id), ident(inp.threadId, "threadId"))
    return label_view(label)


PROCEDURES: dict[str, Procedure] = {
    "communications.threads.list": in_team("query", ThreadListInput, threads_list),
    "communications.threads.get": in_team("query", IdInput, threads_get),
    "communications.threads.assign": in_team("mutation", AssignInput, threads_assign),
    "communications.threads.unassign": in_team("mutation", IdInput, threads_unassign),
    "communications.threads.setStatus": in_team("mutation", StatusInput, threads_set_status),
    "communications.threads.markRead": in_team("mutation", IdInput, threads_mark_read),
    "communications.threads.link": in_team("mutation", LinkInput, threads_link),
    "communications.threads.unlink": in_team("mutation", LinkInput, threads_unlink),
    "communications.labels.list": in_team("query", None, labels_list),
    "communications.labels.create": in_team("mutation", LabelCreateInput, labels_create),
    "communications.labels.update": in_team("mutation", LabelUpdateInput, labels_update),
    "communications.labels.delete": in_team("mutation", IdInput, labels_delete),
    "communications.labels.apply": in_team("mutation", LabelThreadInput, labels_apply),
    "communications.labels.remove": in_team("mutation", LabelThreadInput, labels_remove),
}
