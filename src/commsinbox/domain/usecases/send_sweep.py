"""The periodic task `outbound.sweep`: what a crashed or lost send job left behind.

A send whose hold ran out may have reached the provider (the worker died between the provider's answer and the
record), so it becomes `unknown` and is never sent again by itself. An account with due waiting messages whose
job was lost (a crash between the send's commit and the defer) gets a send job again. It visits each team with
connected accounts: two queries per team.
"""
from __future__ import annotations

from typing import Any

from ...ports.clock import Clock
from ...ports.jobs import JobQueue
from ...ports.unit_of_work import UnitOfWorkFactory
from ..model import events
from ..model.channels import DeliveryStatus
from ..model.ids import TeamId
from ..model.threads import Dispatch, Message
from .outbound import schedule_send

INTERRUPTED = "the send was interrupted: check with the customer before sending again"
SWEEP_LIMIT = 500  # messages per team and tick, of each kind


async def sweep_sends(uows: UnitOfWorkFactory, clock: Clock, jobs: JobQueue) -> int:
    """Returns how many send jobs it deferred."""
    async with uows.for_accounts() as uow:
        teams = sorted({route.team_id for route in await uow.routes.accounts()})
    deferred = 0
    for team_id in teams:
        now = clock.now()
        async with uows.for_team(TeamId(team_id)) as uow:
            for message in await uow.messages.sends(Dispatch.SENDING, now, SWEEP_LIMIT):
                message.status, message.dispatch, message.send_after = DeliveryStatus.UNKNOWN, Dispatch.DONE, None
                message.error_message = INTERRUPTED
                await uow.messages.save_dispatch(message)
                await uow.outbox.add(events.MESSAGE_STATUS_CHANGED, status_event(message), now)
            accounts = {m.account_id for m in await uow.messages.sends(Dispatch.WAITING, now, SWEEP_LIMIT)}
            await uow.commit()
        for account_id in sorted(accounts):
            await schedule_send(jobs, team_id, account_id, None, now)
            deferred += 1
    return deferred


def status_event(message: Message) -> dict[str, Any]:
    return {"messageId": message.id, "threadId": message.thread_id, "status": message.status.value}
