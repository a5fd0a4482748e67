"""Read receipts on both adapters: reading a thread tells the provider which customer message was read."""
from __future__ import annotations

import attrs
import pytest

from commsinbox.adapters.memory.providers import MemoryProviderGateway, MemoryProviderRegistry
from commsinbox.domain.model.channels import Provider
from commsinbox.domain.usecases.receipts import ReadReceipts
from commsinbox.entrypoints.container import Services, memory_services
from commsinbox.ports.providers import ProviderError
from tests.conftest import FAST_HASHER, make_team
from tests.contracts.test_inbox import threads_of
from tests.contracts.test_ingest import connect, text

pytestmark = pytest.mark.integration


def with_fake_providers(services: Services) -> tuple[ReadReceipts, MemoryProviderRegistry]:
    registry = MemoryProviderRegistry()
    return attrs.evolve(services.receipts, providers=registry), registry


@pytest.mark.parametrize("provider", [Provider.WHATSAPP_META, Provider.INSTAGRAM_META])
async def test_the_newest_customer_message_is_marked_read(services: Services, provider: Provider) -> None:
    owner = await make_team(services)
    key = await connect(services, owner, provider)
    first, newest = text(key, minutes=1, provider=provider), text(key, minutes=2, provider=provider)
    await services.ingest.ingest([first, newest])
    [view] = await threads_of(services, owner)
    receipts, registry = with_fake_providers(services)
    assert await receipts.send(owner.team_id, view.thread.id)
    [read] = registry.gateway(provider).reads
    assert (read.provider_message_id, read.contact_external_id) == (newest.provider_message_id,
                                                                     view.thread.external_contact_id)


async def test_a_transient_failure_is_retried_and_a_permanent_one_dropped(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    owner = await make_team(services)
    await services.ingest.ingest([text(await connect(services, owner))])
    [view] = await threads_of(services, owner)
    receipts, _ = with_fake_providers(services)

    async def refuse(*_: object) -> None:
        raise failure

    failure = ProviderError("busy", transient=True, code="130429")
    monkeypatch.setattr(MemoryProviderGateway, "mark_read", refuse)
    with pytest.raises(ProviderError):
        await receipts.send(owner.team_id, view.thread.id)
    failure = ProviderError("no such message", transient=False, code="100")
    assert await receipts.send(owner.team_id, view.thread.id)  # logged, not raised: the job ends


async def test_a_thread_of_another_team_or_without_customer_messages_sends_nothing(services: Services) -> None:
    owner, stranger = await make_team(services), await make_team(services)
    await services.ingest.ingest([text(await connect(services, owner))])
    [view] = await threads_of(services, owner)
    receipts, registry = with_fake_providers(services)
    assert not await receipts.send(stranger.team_id, view.thread.id)  # row-level security hides the thread
    assert registry.gateway(Provider.WHATSAPP_META).reads == []


async def test_marking_an_unread_thread_read_sends_one_receipt_by_a_job() -> None:
    registry = MemoryProviderRegistry()
    services = memory_services(hasher=FAST_HASHER, providers=registry)
    owner = await make_team(services)
    await services.ingest.ingest([text(await connect(services, owner))])
    [view] = await threads_of(services, owner)
    await services.inbox.mark_read(owner.actor, view.thread.id)
    await services.inbox.mark_read(owner.actor, view.thread.id)  # nothing unread any more: no second receipt
    await services.jobs.drain()  # type: ignore[attr-defined]
    assert len(registry.gateway(Provider.WHATSAPP_META).reads) == 1
