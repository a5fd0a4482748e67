"""Sending on both adapters: the policy engine's decision, the idempotency key, and the send's outcomes."""
from __future__ import annotations

import datetime as dt

import attrs
import pytest

from commsinbox.adapters.memory.providers import MemoryProviderRegistry
from commsinbox.domain.model.channels import Channel, DeliveryStatus, Provider
from commsinbox.domain.model.consent import ConsentRecord, ConsentStatus
from commsinbox.domain.model.errors import PolicyBlocked
from commsinbox.domain.model.paging import PageRequest
from commsinbox.domain.model.threads import Dispatch
from commsinbox.domain.policies.decision import Allowed, Deferred
from commsinbox.domain.usecases.outbound import OutboundService, SendRequest
from commsinbox.domain.usecases.teams import TeamChanges
from commsinbox.entrypoints.container import Services
from tests.conftest import Member, make_team
from tests.contracts.test_inbox import threads_of
from tests.contracts.test_ingest import T0, connect, text
from tests.support.sending import RecordedJobs, dispatch, outbound_at

pytestmark = pytest.mark.integration
NOON = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC)  # 12:00 in São Paulo


async def customer_wrote(services: Services, member: Member, at: dt.datetime) -> str:
    key = await connect(services, member)
    minutes = int((at - T0).total_seconds() // 60)
    await services.ingest.ingest([text(key, body="hello", minutes=minutes)])
    [view] = await threads_of(services, member)
    return str(view.thread.id)


def outbound(services: Services, now: dt.datetime) -> OutboundService:
    return outbound_at(services, now)


async def test_a_reply_inside_the_window_is_allowed_and_a_key_sends_once(services: Services) -> None:
    owner = await make_team(services)
    thread = await customer_wrote(services, owner, NOON - dt.timedelta(hours=1))
    service = outbound(services, NOON)
    first = await service.send(owner.actor, SendRequest(thread, "k-1", "On our way"))
    again = await service.send(owner.actor, SendRequest(thread, "k-1", "On our way"))
    assert isinstance(first.decision, Allowed) and again.message.id == first.message.id
    assert (first.message.dispatch, first.message.status) == (Dispatch.WAITING, DeliveryStatus.QUEUED)
    assert len((await service.list(owner.actor, thread, PageRequest())).items) == 2  # the customer's and ours


async def test_outside_the_24_hour_window_a_whatsapp_reply_is_blocked_and_nothing_written(services: Services) -> None:
    owner = await make_team(services)
    thread = await customer_wrote(services, owner, NOON - dt.timedelta(hours=24, minutes=1))
    service = outbound(services, NOON)
    with pytest.raises(PolicyBlocked) as blocked:
        await service.send(owner.actor, SendRequest(thread, "k-2", "Still there?"))
    assert blocked.value.reason == "window_closed_template_required"
    assert len((await service.list(owner.actor, thread, PageRequest())).items) == 1


async def test_an_opted_out_customer_gets_nothing(services: Services) -> None:
    owner = await make_team(services)
    thread = await customer_wrote(services, owner, NOON - dt.timedelta(minutes=5))
    async with services.uows.for_team(owner.team_id) as uow:
        found = await uow.threads.get(thread)
        assert found is not None
        await uow.consent.add(ConsentRecord(found.contact_id, Channel.WHATSAPP, ConsentStatus.OPTED_OUT, "STOP", NOON))
        await uow.commit()
    with pytest.raises(PolicyBlocked) as blocked:
        await outbound(services, NOON).send(owner.actor, SendRequest(thread, "k-3", "Hi"))
    assert blocked.value.reason == "opted_out"


async def test_a_late_reply_in_quiet_hours_waits_for_the_morning(services: Services) -> None:
    owner = await make_team(services)
    await services.teams.update(owner.actor, TeamChanges(timezone="America/Sao_Paulo", quiet_hours="21:00-08:00"))
    late = dt.datetime(2026, 11, 26, 1, 30, tzinfo=dt.UTC)  # 22:30 in São Paulo
    thread = await customer_wrote(services, owner, late - dt.timedelta(hours=2))  # past the reply grace
    jobs = RecordedJobs()
    queued = await attrs.evolve(outbound(services, late), jobs=jobs).send(owner.actor,
                                                                          SendRequest(thread, "k-4", "Good night"))
    assert queued.decision == Deferred(dt.datetime(2026, 11, 26, 11, 0, tzinfo=dt.UTC), "quiet_hours")
    assert queued.message.send_after == queued.decision.until
    assert [at for _task, _args, at, _lock in jobs.deferred] == [queued.decision.until]  # the job waits too


async def test_a_deferred_reply_is_decided_again_when_it_comes_due(services: Services) -> None:
    """Deferred to the morning, the reply does not go if the customer wrote STOP overnight: it fails with the
    rule's name, no provider call, and the refusal is in the audit log."""
    owner = await make_team(services)
    await services.teams.update(owner.actor, TeamChanges(timezone="America/Sao_Paulo", quiet_hours="21:00-08:00"))
    late = dt.datetime(2026, 11, 26, 1, 30, tzinfo=dt.UTC)  # 22:30 in São Paulo
    thread = await customer_wrote(services, owner, late - dt.timedelta(hours=2))
    registry = MemoryProviderRegistry()
    service = outbound_at(services, late, registry)
    queued = await service.send(owner.actor, SendRequest(thread, "k-5", "See you tomorrow"))
    async with services.uows.for_team(owner.team_id) as uow:
        found = await uow.threads.get(thread)
        assert found is not None
        await uow.consent.add(ConsentRecord(found.contact_id, Channel.WHATSAPP, ConsentStatus.OPTED_OUT, "STOP",
                                            late + dt.timedelta(hours=1)))
        await uow.commit()
    morning = outbound_at(services, queued.message.send_after, registry)  # type: ignore[arg-type]
    await dispatch(services, morning, queued.message)
    assert registry.gateway(Provider.WHATSAPP_META).sent == []
    async with services.uows.for_team(owner.team_id) as uow:
        message = await uow.messages.get(queued.message.id)
    assert message is not None and (message.status, message.dispatch, message.error_code) == (
        DeliveryStatus.FAILED, Dispatch.DONE, "opted_out")
    [refusal] = [e for e in (await services.audit.list(owner.actor)).items if e.action == "send.blocked"]
    assert (refusal.actor, refusal.details) == ("system", {"reason": "opted_out", "messageId": message.id})


async def test_a_retried_request_gets_its_message_even_after_the_rules_changed(services: Services) -> None:
    """The client retries a send it already made; the customer has opted out meanwhile. The retry is the same
    request, not a new message: it gets the message queued then, and no refusal is recorded."""
    owner = await make_team(services)
    thread = await customer_wrote(services, owner, NOON - dt.timedelta(minutes=5))
    first = await outbound(services, NOON).send(owner.actor, SendRequest(thread, "k-6", "On its way"))
    async with services.uows.for_team(owner.team_id) as uow:
        found = await uow.threads.get(thread)
        assert found is not None
        await uow.consent.add(ConsentRecord(found.contact_id, Channel.WHATSAPP, ConsentStatus.OPTED_OUT, "STOP", NOON))
        await uow.commit()
    again = await outbound(services, NOON).send(owner.actor, SendRequest(thread, "k-6", "On its way"))
    assert again.message.id == first.message.id and again.decision == Allowed()
    assert not [e for e in (await services.audit.list(owner.actor)).items if e.action == "send.blocked"]
    with pytest.raises(PolicyBlocked):  # a new request is decided as it is now
        await outbound(services, NOON).send(owner.actor, SendRequest(thread, "k-7", "On its way"))
