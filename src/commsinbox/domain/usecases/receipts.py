"""Read receipts: when an agent reads a thread, the customer's provider is told (WhatsApp's blue ticks, Instagram's
"seen"), from a job so a slow or failing provider never holds up the inbox. Twilio has no read receipts for
WhatsApp; its gateway accepts the call and does nothing."""
from __future__ import annotations

import logging

import attrs

from ...ports.jobs import JobQueue
from ...ports.providers import ProviderError, ProviderRegistry
from ...ports.unit_of_work import UnitOfWorkFactory
from ..model.channels import Direction
from ..model.ids import TeamId
from .connections import ConnectionService

log = logging.getLogger("commsinbox.receipts")

TASK = "inbox.read_receipt"


@attrs.define
class ReadReceipts:
    uows: UnitOfWorkFactory
    providers: ProviderRegistry
    connections: ConnectionService
    jobs: JobQueue

    async def request(self, team_id: str, thread_id: str) -> None:
        """Defers the receipt; while one waits for the thread, asking again adds nothing."""
        await self.jobs.defer(TASK, {"team_id": team_id, "thread_id": thread_id},
                              queueing_lock=f"{TASK}:{thread_id}")

    async def send(self, team_id: str, thread_id: str) -> bool:
        """Marks the customer's newest message read at the provider. A transient provider failure raises (the job
        is retried); a permanent one is logged and dropped: a receipt is a courtesy, not a message. Returns
        whether the provider was asked."""
        async with self.uows.for_team(TeamId(team_id)) as uow:
            thread = await uow.threads.get(thread_id)
            account = await uow.accounts.get(thread.account_id) if thread is not None else None
            messages = await uow.messages.list_for_thread(thread.id) if thread is not None else []
        newest = next((m for m in messages if m.direction is Direction.IN and m.provider_message_id), None)
        if thread is None or account is None or newest is None or newest.provider_message_id is None:
            return False
        try:
            await self.providers.gateway(account.provider).mark_read(
                self.connections.access(account), newest.provider_message_id, thread.external_contact_id)
        except ProviderError as error:
            if error.transient:
                raise
            log.warning("read receipt refused", extra={"threadId": thread_id, "code": error.code,
                                                        "reason": error.reason})
        return True
