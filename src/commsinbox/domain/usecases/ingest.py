"""Ingestion: normalised provider events → contacts, threads, messages, statuses and outbox events.

Idempotent by construction: a message is unique per account and provider id, a status per message and
status; replaying a webhook changes nothing. Events for an account that is not connected are reported as
unrouted, so the raw event can be kept and replayed when the account connects."""
from __future__ import annotations

import itertools
from collections.abc import Sequence

import attrs

from ...ports.clock import Clock, IdGenerator
from ...ports.messaging import Route
from ...ports.unit_of_work import TeamUnitOfWork, UnitOfWorkFactory
from ..model import events
from ..model.channels import Channel, DeliveryStatus, Direction, Provider
from ..model.contacts import Contact, Identity, IdentityKind
from ..model.errors import Conflict
from ..model.ids import AccountId, ContactId, MessageId, ThreadId
from ..model.inbound import InboundEvent, InboundMessage, MessageDeleted, StatusUpdate, TemplateStatusChanged
from ..model.phones import identity_key
from ..model.threads import Attachment, Message, Thread, ThreadStatus
from ..policies.delivery import DeliveryState, Reported, apply

ATTEMPTS = 3  # a concurrent webhook may create the same contact or thread first: retry the whole batch


@attrs.frozen
class IngestResult:
    new_messages: tuple[tuple[str, MessageId], ...] = ()  # (team id, message id) of messages first seen now
    unrouted: tuple[str, ...] = ()  # account keys no connected account answers to


def route_key(event: InboundEvent) -> tuple[Provider, str]:
    if isinstance(event, TemplateStatusChanged):
        return event.provider, waba_key(event.account_key)
    return event.provider, event.account_key


def waba_key(waba_id: str) -> str:
    """Template events name the WhatsApp Business Account, which routes to the account that gave its id."""
    return f"waba:{waba_id}"


@attrs.define
class IngestService:
    uows: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator

    async def ingest(self, batch: Sequence[InboundEvent]) -> IngestResult:
        keys = sorted({route_key(e) for e in batch})
        async with self.uows.for_accounts() as system:
            routes = {key: await system.routes.find(*key) for key in keys}
        new: list[tuple[str, MessageId]] = []
        by_route = itertools.groupby(sorted(
            (e for e in batch if routes[route_key(e)]), key=lambda e: route_key(e)), key=route_key)
        for key, group in by_route:
            route = routes[key]
            assert route is not None
            new += [(route.team_id, m) for m in await self._ingest_for(route, list(group))]
        return IngestResult(tuple(new), tuple(k for (_, k), r in routes.items() if r is None))

    async def _ingest_for(self, route: Route, batch: list[InboundEvent]) -> list[MessageId]:
        for attempt in range(ATTEMPTS):
            try:
                async with self.uows.for_team(route.team_id) as uow:
                    created = [m for e in batch if (m := await self._apply(uow, route.account_id, e))]
                    await uow.commit()
                return created
            except Conflict:
                if attempt == ATTEMPTS - 1:
                    raise
        return []

    async def _apply(self, uow: TeamUnitOfWork, account_id: AccountId, event: InboundEvent) -> MessageId | None:
        if isinstance(event, InboundMessage):
            return await self._message(uow, account_id, event)
        if isinstance(event, StatusUpdate):
            await self._status(uow, account_id, event)
        elif isinstance(event, MessageDeleted):
            message = await uow.messages.by_provider_id(account_id, event.provider_message_id)
            if message is not None and message.deleted_at is None:
                await uow.messages.mark_deleted(message.id, event.at)
                await uow.outbox.add(events.MESSAGE_DELETED, {"messageId": message.id, "threadId": message.thread_id},
                                     event.at)
        elif isinstance(event, TemplateStatusChanged):
            await uow.outbox.add(events.TEMPLATE_STATUS_CHANGED, {
                "accountId": account_id, "templateId": event.template_id, "name": event.name,
                "language": event.language, "status": event.status, "reason": event.reason}, event.at)
        return None

    async def _message(self, uow: TeamUnitOfWork, account_id: AccountId, event: InboundMessage) -> MessageId | None:
        if await uow.messages.by_provider_id(account_id, event.provider_message_id):
            return None  # a provider retry: nothing to do
        now = self.clock.now()
        contact = await self._contact(uow, event)
        thread, opened = await self._thread(uow, account_id, contact, event)
        message = Message(MessageId(self.ids.new_id()), uow.team_id, thread.id, account_id,
                          event.provider_message_id, event.direction, event.type, event.sent_at,
                          DeliveryStatus.DELIVERED if event.direction is Direction.IN else DeliveryStatus.SENT,
                          now, event.text, dict(event.meta))
        if not await uow.messages.add(message):
            return None
        reports = await uow.messages.statuses(account_id, event.provider_message_id)
        if reports:  # statuses that arrived before their message
            _set_delivery(message, apply(_state(message), reports))
            await uow.messages.update_delivery(message)
        await uow.messages.add_attachments([
            Attachment(self.ids.new_id(), uow.team_id, message.id, position, media.kind,
                       {k: v for k, v in attrs.asdict(media).items() if v is not None}, now,
                       content_type=media.content_type)
            for position, media in enumerate(event.media)])
        reopened = thread.record(event.direction, event.sent_at)
        if not opened and thread.status is ThreadStatus.RESOLVED and event.direction is Direction.IN:
            thread.status, reopened = ThreadStatus.OPEN, True
        await uow.threads.update(thread)
        at = event.sent_at
        if opened:
            await uow.outbox.add(events.THREAD_OPENED, {"threadId": thread.id, "contactId": contact.id}, at)
        elif reopened:
            await uow.outbox.add(events.THREAD_REOPENED, {"threadId": thread.id}, at)
        await uow.outbox.add(events.MESSAGE_RECEIVED, {
            "messageId": message.id, "threadId": thread.id, "direction": message.direction.value,
            "type": message.type.value}, at)
        return message.id

    async def _contact(self, uow: TeamUnitOfWork, event: InboundMessage) -> Contact:
        identities = _identities(event)
        contact = await uow.contacts.find(identities)
        if contact is not None:
            await uow.contacts.add_identities(contact.id, identities)
            return contact
        phone = event.contact.phone
        clients = await uow.clients.find_by_contact(phone=phone) if phone else []
        contact = Contact(ContactId(self.ids.new_id()), uow.team_id, self.clock.now(), event.contact.display_name,
                          phone, clients[0].id if len(clients) == 1 else None)
        await uow.contacts.add(contact, identities)
        return contact

    async def _thread(self, uow: TeamUnitOfWork, account_id: AccountId, contact: Contact,
                      event: InboundMessage) -> tuple[Thread, bool]:
        thread = await uow.threads.latest(account_id, contact.id)
        if thread is not None:
            return thread, False
        thread = Thread(ThreadId(self.ids.new_id()), uow.team_id, account_id, contact.id,
                        Channel(event.provider.channel), event.contact.external_id, ThreadStatus.OPEN,
                        event.sent_at, self.clock.now())
        await uow.threads.add(thread)
        return thread, True

    async def _status(self, uow: TeamUnitOfWork, account_id: AccountId, event: StatusUpdate) -> None:
        report = Reported(event.status, event.at, event.error_code, event.error_title)
        if not await uow.messages.record_status(account_id, event.provider_message_id, report):
            return  # this status was already recorded
        message = await uow.messages.by_provider_id(account_id, event.provider_message_id)
        if message is None:
            return  # kept; applied when the message appears
        before = message.status
        _set_delivery(message, apply(_state(message), [report]))
        if message.status is not before or report.status is DeliveryStatus.FAILED:
            await uow.messages.update_delivery(message)
            await uow.outbox.add(events.MESSAGE_STATUS_CHANGED, {
                "messageId": message.id, "threadId": message.thread_id, "status": message.status.value}, event.at)


def _identities(event: InboundMessage) -> list[Identity]:
    contact = event.contact
    if event.provider.channel is Channel.INSTAGRAM:
        return [Identity(IdentityKind.IGSID, contact.external_id)]
    found = [Identity(IdentityKind.WA_ID, contact.external_id)]
    if contact.phone:
        found.append(Identity(IdentityKind.PHONE, identity_key(contact.phone)))
    return found


def _state(message: Message) -> DeliveryState:
    return DeliveryState(message.status, message.delivered_at, message.read_at, message.error_code,
                         message.error_message)


def _set_delivery(message: Message, state: DeliveryState) -> None:
    message.status, message.delivered_at, message.read_at = state.status, state.delivered_at, state.read_at
    message.error_code, message.error_message = state.error_code, state.error_message
