"""Ingestion on both adapters: idempotent, every event applied, statuses monotonic in any order."""
from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import uuid

import pytest

from commsinbox.domain.model.accounts import AccountStatus, CommunicationAccount
from commsinbox.domain.model.channels import DeliveryStatus, Direction, MessageType, Provider
from commsinbox.domain.model.inbound import ContactRef, InboundMessage, MediaRef, MessageDeleted, StatusUpdate
from commsinbox.domain.model.threads import ThreadStatus
from commsinbox.domain.usecases.clients import ClientFields
from commsinbox.entrypoints.container import Services
from tests.conftest import Member, make_team

pytestmark = pytest.mark.integration
T0 = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
_seq = itertools.count()


async def connect(services: Services, member: Member, provider: Provider = Provider.WHATSAPP_META) -> str:
    account = CommunicationAccount(str(uuid.uuid4()), member.team_id, provider, f"pn-{uuid.uuid4().hex[:12]}",  # type: ignore[arg-type]
                                   "Shop", AccountStatus.ACTIVE, T0)
    async with services.uows.for_team(member.team_id, member.user_id) as uow:
        await uow.accounts.add(account)
        await uow.commit()
    return account.external_id


def text(key: str, *, wa_id: str = "5511987654321", phone: str | None = "+5511987654321", body: str = "hi",
         provider: Provider = Provider.WHATSAPP_META, minutes: int = 0, **extra: object) -> InboundMessage:
    return InboundMessage(provider, key, f"wamid.{next(_seq)}-{uuid.uuid4().hex[:6]}",
                          ContactRef(wa_id, phone, "Ana"), MessageType.TEXT, T0 + dt.timedelta(minutes=minutes),
                          text=body, **extra)  # type: ignore[arg-type]


async def messages_of(services: Services, member: Member) -> list:  # type: ignore[type-arg]
    async with services.uows.for_team(member.team_id) as uow:
        threads = [t for t in [await uow.threads.latest(a.id, c) for a in await uow.accounts.list()
                               for c in await _contact_ids(uow)] if t]
        return [m for t in threads for m in await uow.messages.list_for_thread(t.id, 500)]


async def _contact_ids(uow) -> list[str]:  # type: ignore[no-untyped-def]
    events = await uow.outbox.since(None, 1000)
    return sorted({e.payload["contactId"] for e in events if e.kind == "thread.opened"})


async def test_a_batch_is_ingested_whole_and_a_replay_changes_nothing(services: Services) -> None:
    member = await make_team(services)
    key = await connect(services, member)
    batch = [text(key, body=f"m{i}", minutes=i) for i in range(5)]
    first = await services.ingest.ingest(batch)
    assert len(first.new_messages) == 5 and first.unrouted == ()
    again = await services.ingest.ingest(batch)
    assert again.new_messages == ()
    stored = await messages_of(services, member)
    assert sorted(m.content for m in stored) == ["m0", "m1", "m2", "m3", "m4"]
    assert {m.thread_id for m in stored} == {stored[0].thread_id}


async def test_concurrent_deliveries_of_the_same_webhook_yield_one_message(services: Services) -> None:
    member = await make_team(services)
    key = await connect(services, member)
    batch = [text(key, wa_id="15550001111", phone="+15550001111")]
    results = await asyncio.gather(*(services.ingest.ingest(batch) for _ in range(5)))
    assert sum(len(r.new_messages) for r in results) == 1
    assert len(await messages_of(services, member)) == 1


async def test_unknown_account_is_reported_unrouted(services: Services) -> None:
    result = await services.ingest.ingest([text("not-connected")])
    assert result.unrouted == ("not-connected",) and result.new_messages == ()


async def test_one_contact_for_a_brazilian_number_with_and_without_the_ninth_digit(services: Services) -> None:
    member = await make_team(services)
    key = await connect(services, member)
    await services.ingest.ingest([text(key, wa_id="5511987654321", phone="+5511987654321")])
    await services.ingest.ingest([text(key, wa_id="551187654321", phone="+551187654321", minutes=1)])
    stored = await messages_of(services, member)
    assert len(stored) == 2 and len({m.thread_id for m in stored}) == 1


async def test_a_new_contact_is_linked_to_the_client_with_that_phone(services: Services) -> None:
    member = await make_team(services)
    client = await services.clients.create(member.actor, ClientFields("Ana", "+5511912345678"))
    key = await connect(services, member)
    await services.ingest.ingest([text(key, wa_id="5511912345678", phone="+5511912345678")])
    async with services.uows.for_team(member.team_id) as uow:
        contact_id = (await _contact_ids(uow))[0]
        assert (await uow.contacts.get(contact_id)).client_id == client.id  # type: ignore[union-attr]


@pytest.mark.parametrize("order", [
    ("sent", "delivered", "read"), ("read", "delivered", "sent"), ("delivered", "read", "sent"),
    ("delivered", "failed"), ("failed", "delivered"), ("read", "failed", "sent")])
async def test_statuses_in_any_order_end_in_the_right_state(services: Services, order: tuple[str, ...]) -> None:
    member = await make_team(services)
    key = await connect(services, member)
    echo = text(key, direction=Direction.OUT)
    await services.ingest.ingest([echo])
    for i, status in enumerate(order):
        await services.ingest.ingest([StatusUpdate(Provider.WHATSAPP_META, key, echo.provider_message_id,
                                                   DeliveryStatus(status), T0 + dt.timedelta(seconds=i),
                                                   error_code="131026" if status == "failed" else None)])
    message = (await messages_of(services, member))[0]
    expected = "failed" if "failed" in order else "read"
    assert message.status.value == expected
    if expected == "read":
        assert message.delivered_at is not None and message.read_at is not None
    else:
        assert message.error_code == "131026"


async def test_a_status_before_its_message_is_applied_when_the_message_appears(services: Services) -> None:
    member = await make_team(services)
    key = await connect(services, member)
    echo = text(key, direction=Direction.OUT)
    await services.ingest.ingest([StatusUpdate(Provider.WHATSAPP_META, key, echo.provider_message_id,
                                               DeliveryStatus.READ, T0)])
    await services.ingest.ingest([echo])
    assert (await messages_of(services, member))[0].status is DeliveryStatus.READ


async def test_a_resolved_thread_reopens_on_a_new_inbound_message(services: Services) -> None:
    member = await make_team(services)
    key = await connect(services, member)
    await services.ingest.ingest([text(key)])
    async with services.uows.for_team(member.team_id) as uow:
        thread = await uow.threads.get((await messages_of(services, member))[0].thread_id)
        assert thread is not None
        thread.status = ThreadStatus.RESOLVED
        await uow.threads.update(thread)
        await uow.commit()
    await services.ingest.ingest([text(key, minutes=5)])
    async with services.uows.for_team(member.team_id) as uow:
        reopened = await uow.threads.get(thread.id)
        kinds = [e.kind for e in await uow.outbox.since(None, 100)]
    assert reopened is not None and reopened.status is ThreadStatus.OPEN
    assert kinds.count("thread.opened") == 1 and kinds.count("thread.reopened") == 1


async def test_media_becomes_pending_attachments_and_deletion_is_recorded(services: Services) -> None:
    member = await make_team(services)
    key = await connect(services, member)
    photo = text(key, body=None, media=(MediaRef(MessageType.IMAGE, media_id="m-1", content_type="image/jpeg"),))
    result = await services.ingest.ingest([photo])
    await services.ingest.ingest([MessageDeleted(Provider.WHATSAPP_META, key, photo.provider_message_id, T0)])
    async with services.uows.for_team(member.team_id) as uow:
        message = await uow.messages.get(result.new_messages[0][1])
        attachments = await uow.messages.attachments(result.new_messages[0][1])
    assert message is not None and message.deleted_at == T0
    assert [(a.kind, a.source["media_id"], a.storage_path) for a in attachments] == [(MessageType.IMAGE, "m-1", None)]
