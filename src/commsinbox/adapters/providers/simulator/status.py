"""Status webhooks for messages sent through the simulator: on request (`POST /_sim/status`) or by themselves after
each accepted send when `autoStatus` is on (`POST /_sim/settings`).

* Twilio: form callbacks to the message's `StatusCallback` (none without one, as Twilio does), signed with the
  account's auth token. No callback for the initial `queued` (providers.md §1.3).
* WhatsApp Cloud: `statuses` webhooks to the target's Meta WhatsApp path, signed with the app secret, echoing
  `biz_opaque_callback_data`.
* Instagram: only `read` exists (`messaging_seen`); the other statuses are skipped.
"""
from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from aiohttp import web

from . import deliver
from ._shared import CLIENT, STATE, spawn
from .state import INSTAGRAM, TWILIO, WHATSAPP, IssuedMessage, SimulatorState

SEQUENCES = {"sent": ["sent"], "delivered": ["sent", "delivered"], "read": ["sent", "delivered", "read"],
             "failed": ["failed"], "undelivered": ["sent", "undelivered"]}


def webhook_for(state: SimulatorState, message: IssuedMessage, status: str, at: dt.datetime, code: int | None, *,
                base: str | None = None, url: str | None = None) -> deliver.Webhook | str:
    """The signed webhook for one status, or why there is none. `base` replaces the target's base URL, `url` the
    whole URL."""
    def target(provider: str) -> str:
        return url or (base or state.target).rstrip("/") + deliver.WEBHOOK_PATHS[provider]

    if message.provider == TWILIO:
        callback = url or (target(TWILIO) if base else message.status_callback)
        if callback is None:
            return "the message had no StatusCallback"
        account = state.twilio[message.account_id]
        return deliver.twilio_webhook(callback, account, deliver.twilio_status(message, status, code))
    meta = state.meta[message.account_id]
    if message.provider == WHATSAPP:
        return deliver.meta_webhook(target(WHATSAPP), meta, deliver.whatsapp_status(message, meta, status, at, code))
    if status == "read":
        return deliver.meta_webhook(target(INSTAGRAM), meta, deliver.instagram_seen(message, meta, at))
    return "Instagram sends no webhook for this status"


async def send_statuses(app: web.Application, message: IssuedMessage, statuses: list[str], code: int | None, *,
                        base: str | None = None, url: str | None = None, delay: float = 0.0,
                        deliver_them: bool = True) -> list[dict[str, Any]]:
    """Builds and (unless told not to) POSTs one webhook per status, in order; reports each."""
    state = app[STATE]
    reports: list[dict[str, Any]] = []
    for index, status in enumerate(statuses):
        if delay:
            await asyncio.sleep(delay)
        webhook = webhook_for(state, message, status, state.clock.now() + dt.timedelta(seconds=index), code,
                              base=base, url=url)
        if isinstance(webhook, str):
            reports.append({"status": status, "skipped": webhook})
            continue
        report: dict[str, Any] = {"status": status, "url": webhook.url, "payload": webhook.payload,
                                  "headers": webhook.headers}
        if not deliver_them:
            reports.append(report | {"httpStatus": None, "delivered": False})
            continue
        outcome = await deliver.post(app[CLIENT], webhook, state=state,
                                     note={"kind": "status", "messageId": message.id, "status": status})
        reports.append(report | outcome | {"delivered": True})
    return reports


def after_send(request: web.Request, message: IssuedMessage) -> None:
    """Called by the send APIs for each accepted message: with `autoStatus`, its status webhooks follow in the
    background (the send's answer does not wait for them)."""
    settings = request.app[STATE].settings
    if not settings.auto_status:
        return
    statuses, code, delay = (SEQUENCES[settings.auto_status_outcome], settings.auto_status_error_code,
                             settings.auto_status_delay)

    async def run() -> None:
        await send_statuses(request.app, message, statuses, code, delay=delay)

    spawn(request.app, run())
