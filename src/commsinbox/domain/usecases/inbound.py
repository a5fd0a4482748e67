"""Raw webhook events → ingestion. Events are stored before the provider is answered; this turns them into
messages, now or on a later retry, and replays those that arrived before their account was connected."""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

import attrs

from ...ports.clock import Clock
from ...ports.messaging import RawEvent
from ...ports.providers import WebhookParsers
from ...ports.unit_of_work import UnitOfWorkFactory
from ..model.channels import Provider
from ..model.ids import MessageId
from ..model.inbound import InboundEvent
from .ingest import IngestResult, IngestService, route_key

log = logging.getLogger("commsinbox.inbound")
MAX_ATTEMPTS = 10
CHUNK = 100  # events claimed per transaction
LEASE = dt.timedelta(seconds=60)  # how long a claim (or the storing request) has before others may retry
FIRST_RETRY = dt.timedelta(seconds=30)  # then doubling: 30 s, 1, 2, 4 … min, ten attempts over about 8 h


def retry_delay(attempts: int) -> dt.timedelta:
    return FIRST_RETRY * 2 ** max(attempts - 1, 0)


@attrs.define
class InboundProcessor:
    uows: UnitOfWorkFactory
    ingest: IngestService
    parsers: WebhookParsers
    clock: Clock

    async def accept(self, provider: Provider, event_key: str, content_type: str, body: bytes,
                     events: list[InboundEvent]) -> IngestResult | None:
        """Keeps a verified webhook body durably, then ingests its already parsed events; None when this very
        event was stored before (a provider retry). If ingesting fails, the stored event is retried later."""
        keys = sorted({route_key(e) for e in events})
        async with self.uows.for_accounts() as uow:
            event_id = await uow.inbound.store(provider, event_key, content_type, body, self.clock.now(),
                                               lease=LEASE, claimed=True)
            if event_id is None:
                return None
            routes = {key: await uow.routes.find(*key) for key in keys}
            await uow.commit()
        return await self._finish(event_id, 1, lambda: self.ingest.ingest(events, routes, event_id))

    async def _finish(self, event_id: int, attempt: int,
                      work: Callable[[], Awaitable[IngestResult]]) -> IngestResult:
        state, error, result = "done", None, IngestResult()
        try:
            result = await work()
            state = "unrouted" if result.unrouted else "done"
        except Exception as exc:  # noqa: BLE001 — anything that goes wrong is kept on the event for a retry
            state, error = "failed", f"{type(exc).__name__}: {exc}"[:500]
            log.warning("inbound event %s failed", event_id, extra={"error": error, "attempt": attempt})
        if not result.finished:
            retry_at = self.clock.now() + retry_delay(attempt) if state == "failed" else None
            async with self.uows.for_accounts() as uow:
                await uow.inbound.finish(event_id, state, error, list(result.unrouted), retry_at)
                await uow.commit()
        if result.unrouted:
            log.info("inbound event %s names accounts not connected yet", event_id,
                     extra={"accounts": list(result.unrouted)})
        return result

    async def process(self, ids: list[int] | None = None) -> IngestResult:
        """Processes the given stored events (or the pending and failed ones); a failure is recorded on the
        event for a later retry, never lost."""
        new: list[tuple[str, MessageId]] = []
        with_media: list[tuple[str, MessageId]] = []
        async with self.uows.for_accounts() as uow:
            claimed = await uow.inbound.claim(ids, now=self.clock.now(), lease=LEASE, limit=CHUNK,
                                              max_attempts=MAX_ATTEMPTS)
            await uow.commit()
        for event in claimed:
            result = await self._finish(event.id, event.attempts, lambda event=event: self._one(event))  # type: ignore[misc]
            new += result.new_messages
            with_media += result.with_media
        return IngestResult(tuple(new), tuple(with_media))

    async def replay_unrouted(self, provider: Provider, account_key: str) -> IngestResult:
        """Every stored event that named this account before it was connected, in chunks."""
        async with self.uows.for_accounts() as uow:
            ids = await uow.inbound.unrouted(provider, account_key)
        new: list[tuple[str, MessageId]] = []
        with_media: list[tuple[str, MessageId]] = []
        for start in range(0, len(ids), CHUNK):
            result = await self.process(ids[start:start + CHUNK])
            new += result.new_messages
            with_media += result.with_media
        return IngestResult(tuple(new), tuple(with_media))

    async def _one(self, event: RawEvent) -> IngestResult:
        events = self.parsers.parser(event.provider).parse(event.body, event.content_type, event.received_at)
        return await self.ingest.ingest(events, raw_event=event.id)
