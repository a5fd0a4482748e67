"""The raw inbound event store on both adapters: deduplication, leases and backoff between processes."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from commsinbox.domain.model.channels import Provider
from commsinbox.entrypoints.container import Services

pytestmark = pytest.mark.integration
T0 = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=60)


async def test_an_event_is_leased_to_one_claimer_and_backs_off_after_a_failure(services: Services) -> None:
    key = uuid.uuid4().hex
    async with services.uows.for_accounts() as uow:
        event_id = await uow.inbound.store(Provider.WHATSAPP_META, key, "application/json", b"{}", T0, lease=LEASE)
        assert await uow.inbound.store(Provider.WHATSAPP_META, key, "application/json", b"{}", T0, lease=LEASE) is None
        await uow.commit()

    async def claim(at: dt.datetime) -> list[int]:
        async with services.uows.for_accounts() as uow:
            claimed = [e.id for e in await uow.inbound.claim(now=at, lease=LEASE, limit=1000) if e.id == event_id]
            await uow.commit()
        return claimed

    assert await claim(T0 + dt.timedelta(seconds=59)) == []  # the storing request still has it
    assert await claim(T0 + LEASE) == [event_id]
    assert await claim(T0 + LEASE) == []  # leased to the first claimer
    async with services.uows.for_accounts() as uow:
        await uow.inbound.finish(event_id, "failed", "boom", retry_at=T0 + dt.timedelta(minutes=10))
        await uow.commit()
    assert await claim(T0 + dt.timedelta(minutes=9)) == []  # backing off
    assert await claim(T0 + dt.timedelta(minutes=10)) == [event_id]
    async with services.uows.for_accounts() as uow:
        await uow.inbound.finish(event_id, "done")
        await uow.commit()
    assert await claim(T0 + dt.timedelta(days=1)) == []
