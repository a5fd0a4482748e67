"""Ingestion: normalised provider events → contacts, threads, messages, statuses and outbox events.

Idempotent by construction: a message is unique per account and provider id, a status per message and
status; replaying a webhook changes nothing. Events for an account that is not connected are reported as
unrouted, so the raw event can be kept and replayed when the account connects."""
from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence

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
from ..model.phones import identity_key, spellings
from ..model.threads import Attachment, Message, Thread, ThreadStatus
from ..policies.delivery import DeliveryState, Reported, apply
from .template_events import apply_template_event
from .consent import KeywordMessage, record_keywords

ATTEMPTS = 3  # a concurrent webhook may create the same contact or thread first: retry the whole batch
FIRST_DOWNLOAD_GRACE = dt.timedelta(minutes=1)  # the request downloads media at once; the sweep is the safety net


@attrs.frozen
class IngestResult:
    new_messages: tuple[tuple[str, MessageId], ...] = ()  # (team id, message id) of messages first seen now
    with_media: tuple[tuple[str, MessageId], ...] = ()  # those of them that carry media to download
    unrouted: tuple[str, ...] = ()  # account keys no connected account answers to
    finished: bool = False  # the raw event was marked done in the ingesting transaction


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

    async def ingest(self, batch: Sequence[InboundEvent],
                     routes: Mapping[tuple[Provider, str], Route | None] | None = None,
                     raw_event: int | None = None) -> IngestResult:
        """Applies a batch; `routes` (account key → team and account) is looked up unless the caller has it.
        When the whole batch goes to one team, `raw_event` is marked done in that same transaction."""
        if routes is None:
            async with self.uows.for_accounts() as system:
                routes = {key: await system.routes.find(*key) for key in sorted({route_key(e) for e in batch})}
        new: list[tuple[str, MessageId]] = []
        with_media: list[tuple[str, MessageId]] = []
        groups = [(routes[key], list(group)) for key, group in itertools.groupby(
            sorted((e for e in batch if routes[route_key(e)]), key=route_key), key=route_key)]
        one_team = len(groups) == 1 and all(routes.values())  # one transaction will hold everything
        for route, group in groups:
            assert route is not None
            created, media = await self._ingest_for(route, group, raw_event if one_team else None)
            new += [(route.team_id, m) for m in created]
            with_media += [(route.team_id, m) for m in media]
        return IngestResult(tuple(new), tuple(with_media), tuple(k for (_, k), r in routes.items() if r is None),
                            finished=one_team and raw_event is not None)

    async def _ingest_for(self, route: Route, batch: list[InboundEvent], raw_event: int | None
                          ) -> tuple[list[MessageId], list[MessageId]]:
        for attempt in range(ATTEMPTS):
            try:
                async with self.uows.for_team(route.team_id) as uow:
                    created = await self._messages(uow, route.account_id,
                                                   [e for e in batch if isinstance(e, InboundMessage)])
                    for event in batch:
                        if not isinstance(event, InboundMessage):
                            await self._apply(uow, route.account_id, event)
                    if raw_event is not None:
                        await uow.raw_events.finish(raw_event, "done")
                    await uow.commit()
                return created
            except Conflict:
                if attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    async def _apply(self, uow: TeamUnitOfWork, account_id: AccountId, event: InboundEvent) -> None:
        if isinstance(event, StatusUpdate):
            await self._status(uow, account_id, event)
        elif isinstance(event, MessageDeleted):
            message = await uow.messages.by_provider_id(account_id, event.provider_message_id)
            if message is not None and message.deleted_at is None:
                await uow.messages.mark_deleted(message.id, event.at)
                await uow.outbox.add(events.MESSAGE_DELETED, {"messageId": message.id, "threadId": message.thread_id},
                                     event.at)
        elif isinstance(event, TemplateStatusChanged):
            await apply_template_event(uow, account_id, event)

    async def _messages(self, uow: TeamUnitOfWork, account_id: AccountId, batch: list[InboundMessage]
                        ) -> tuple[list[MessageId], list[MessageId]]:
        """A whole batch of messages in a handful of statements: known ids skipped, contacts and threads
        resolved or created once each, messages inserted together (a concurrent duplicate is a no-op)."""
        # one per provider id; those stored already are skipped by the insert itself (ON CONFLICT DO NOTHING)
        fresh = list({m.provider_message_id: m for m in batch}.values())
        if not fresh:
            return [], []
        now = self.clock.now()
        contacts = await self._contacts(uow, fresh, now)
        threads, opened = await self._threads(uow, account_id, fresh, contacts, now)
        messages = [Message(MessageId(self.ids.new_id()), uow.team_id, threads[m.provider_message_id].id, account_id,
                            m.provider_message_id, m.direction, m.type, m.sent_at,
                            DeliveryStatus.DELIVERED if m.direction is Direction.IN else DeliveryStatus.SENT,
                            now, m.text, dict(m.meta)) for m in fresh]
        inserted = await uow.messages.add_many(messages)
        stored = [(event, message) for event, message in zip(fresh, messages, strict=True)
                  if message.provider_message_id in inserted]
        outbox: list[tuple[str, dict[str, object], object]] = []
        touched: dict[ThreadId, Thread] = {}
        for event, message in stored:
            if event.direction is Direction.OUT:  # statuses that arrived before their message
                reports = await uow.messages.statuses(account_id, event.provider_message_id)
                if reports:
                    _set_delivery(message, apply(_state(message), reports))
                    await uow.messages.update_delivery(message)
            thread = threads[event.provider_message_id]
            reopened = thread.record(event.direction, event.sent_at)
            if thread.id not in opened and thread.status is ThreadStatus.RESOLVED and event.direction is Direction.IN:
                thread.status, reopened = ThreadStatus.OPEN, True
            touched[thread.id] = thread
            if thread.id in opened:
                outbox.append((events.THREAD_OPENED, {"threadId": thread.id, "contactId": thread.contact_id},
                               event.sent_at))
                opened.discard(thread.id)
            elif reopened:
                outbox.append((events.THREAD_REOPENED, {"threadId": thread.id}, event.sent_at))
            outbox.append((events.MESSAGE_RECEIVED, {"messageId": message.id, "threadId": thread.id,
                                                     "direction": message.direction.value,
                                                     "type": message.type.value}, event.sent_at))
        await uow.messages.add_attachments([
            Attachment(self.ids.new_id(), uow.team_id, message.id, position, media.kind,
                       {k: v for k, v in attrs.asdict(media).items() if v is not None}, now,
                       content_type=media.content_type, retry_after=now + FIRST_DOWNLOAD_GRACE)
            for event, message in stored for position, media in enumerate(event.media)])
        await uow.threads.update_many(list(touched.values()))
        await uow.outbox.add_many(outbox)  # type: ignore[arg-type]
        await record_keywords(uow, [KeywordMessage(threads[e.provider_message_id], message.id, e.text, e.sent_at)
                                    for e, message in stored if e.direction is Direction.IN and e.text])
        return [message.id for _, message in stored], [message.id for event, message in stored if event.media]

    async def _contacts(self, uow: TeamUnitOfWork, batch: list[InboundMessage], now: dt.datetime
                        ) -> dict[str, Contact]:
        """The contact of each message (by provider message id), creating each new person once."""
        identities = {m.provider_message_id: _identities(m) for m in batch}
        known = dict(await uow.contacts.find_many([i for ids in identities.values() for i in ids]))
        created: dict[ContactId, tuple[Contact, list[Identity]]] = {}
        learned: list[tuple[ContactId, Identity]] = []  # new identities of contacts that already existed
        result: dict[str, Contact] = {}
        for message in batch:
            mine = identities[message.provider_message_id]
            contact = next((known[i] for i in mine if i in known), None)
            if contact is None:
                contact = Contact(ContactId(self.ids.new_id()), uow.team_id, now, message.contact.display_name,
                                  message.contact.phone)
                created[contact.id] = (contact, [])
            for identity in (i for i in mine if i not in known):
                known[identity] = contact
                if contact.id in created:
                    created[contact.id][1].append(identity)
                else:
                    learned.append((contact.id, identity))
            result[message.provider_message_id] = contact
        phones = [p for c, _ in created.values() if c.phone for p in spellings(c.phone)]
        clients = await uow.clients.find_by_phones(phones) if phones else {}
        for contact, _ in created.values():  # a new contact is linked to the one client with that phone
            linked = {c.id for p in spellings(contact.phone) for c in clients.get(p, [])} if contact.phone else set()
            contact.client_id = linked.pop() if len(linked) == 1 else None
        await uow.contacts.add_many(list(created.values()))
        await uow.contacts.add_identities_many(learned)
        return result

    async def _threads(self, uow: TeamUnitOfWork, account_id: AccountId, batch: list[InboundMessage],
                       contacts: dict[str, Contact], now: dt.datetime) -> tuple[dict[str, Thread], set[ThreadId]]:
        """The thread of each message (one per account + contact), and the ids of threads opened now."""
        latest = await uow.threads.latest_many(account_id, [c.id for c in contacts.values()])
        opened: list[Thread] = []
        result: dict[str, Thread] = {}
        for message in batch:
            contact = contacts[message.provider_message_id]
            thread = latest.get(contact.id)
            if thread is None:
                thread = Thread(ThreadId(self.ids.new_id()), uow.team_id, account_id, contact.id,
                                Channel(message.provider.channel), message.contact.external_id, ThreadStatus.OPEN,
                                message.sent_at, now)
                latest[contact.id] = thread
                opened.append(thread)
            result[message.provider_message_id] = thread
        await uow.threads.add_many(opened)
        return result, {t.id for t in opened}

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
