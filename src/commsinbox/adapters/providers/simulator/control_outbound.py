"""The outbound side of the control API: status callbacks for sent messages, templates, settings (`autoStatus`),
read marks and the webhooks the simulator delivered."""
from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from . import deliver
from . import status as status_callbacks
from ._shared import CLIENT, STATE, TASKS, bad_request, json_body, state_of
from ._shared import int_field as _int
from ._shared import text_field as _text
from ._shared import texts_field as _texts
from .state import TWILIO, WHATSAPP, Template

_META_STATUSES = ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", "IN_APPEAL", "FLAGGED", "REINSTATED",
                  "DELETED")


def add_routes(app: web.Application) -> None:
    app.router.add_post("/_sim/status", send_status)
    app.router.add_get("/_sim/settings", get_settings)
    app.router.add_post("/_sim/settings", update_settings)
    app.router.add_get("/_sim/templates", list_templates)
    app.router.add_post("/_sim/templates", register_template)
    app.router.add_post("/_sim/templates/status", template_status)
    app.router.add_get("/_sim/reads", list_reads)
    app.router.add_get("/_sim/deliveries", list_deliveries)


async def send_status(request: web.Request) -> web.Response:
    """Status callbacks for a message the simulator issued: `outcome` (sent, delivered, read — the default —,
    failed, undelivered) or an explicit `statuses` list; `errorCode` for failures."""
    state, body = state_of(request), await json_body(request)
    message = state.messages.get(_text(body, "messageId") or "")
    if message is None:
        raise web.HTTPNotFound(text='{"error": "no message with that messageId was sent through the simulator"}',
                               content_type="application/json")
    statuses = _texts(body, "statuses") or status_callbacks.SEQUENCES.get(_text(body, "outcome") or "read", [])
    code = body.get("errorCode")
    if not statuses or (code is not None and not isinstance(code, int)):
        raise bad_request(f"outcome must be one of {', '.join(status_callbacks.SEQUENCES)}; errorCode an integer")
    deliveries = await status_callbacks.send_statuses(
        request.app, message, statuses, code, base=_text(body, "target"), url=_text(body, "url"),
        deliver_them=body.get("deliver", True) is not False)
    return web.json_response({"messageId": message.id, "provider": message.provider, "deliveries": deliveries})


async def get_settings(request: web.Request) -> web.Response:
    return web.json_response(state_of(request).settings.as_json())


async def update_settings(request: web.Request) -> web.Response:
    """`{autoStatus?, autoStatusOutcome?, autoStatusErrorCode?, autoStatusDelaySeconds?}`; what is left out stays."""
    settings, body = state_of(request).settings, await json_body(request)
    outcome, delay = _text(body, "autoStatusOutcome"), body.get("autoStatusDelaySeconds")
    if outcome is not None and outcome not in status_callbacks.SEQUENCES:
        raise bad_request(f"autoStatusOutcome must be one of {', '.join(status_callbacks.SEQUENCES)}")
    if delay is not None and (not isinstance(delay, (int, float)) or isinstance(delay, bool) or delay < 0):
        raise bad_request("autoStatusDelaySeconds must be a non-negative number")
    if "autoStatus" in body:
        settings.auto_status = bool(body["autoStatus"])
    if outcome is not None:
        settings.auto_status_outcome = outcome
    if "autoStatusErrorCode" in body:
        settings.auto_status_error_code = _int(body, "autoStatusErrorCode")
    if delay is not None:
        settings.auto_status_delay = float(delay)
    return web.json_response(settings.as_json())


async def list_templates(request: web.Request) -> web.Response:
    return web.json_response({"templates": [t.as_json() for t in state_of(request).templates]})


async def register_template(request: web.Request) -> web.Response:
    """WhatsApp Cloud: `{provider: whatsapp-meta, wabaId, name, language, status?, category?, variables?}`.
    Twilio: `{provider: whatsapp-twilio, accountSid, contentSid?, variables?}` (a Content Template)."""
    state, body = state_of(request), await json_body(request)
    provider, variables = body.get("provider"), _int(body, "variables") or 0
    if provider == WHATSAPP:
        waba_id, name, language = _text(body, "wabaId"), _text(body, "name"), _text(body, "language")
        status = (_text(body, "status") or "APPROVED").upper()
        if not waba_id or not name or not language or status not in _META_STATUSES:
            raise bad_request(f"give wabaId, name, language and a status among {', '.join(_META_STATUSES)}")
        existing = state.template(WHATSAPP, waba_id, name, language)
        if existing is not None:
            state.templates.remove(existing)
        template = Template(id=state.numeric_id(), provider=WHATSAPP, owner=waba_id, name=name, language=language,
                            category=(_text(body, "category") or "UTILITY").upper(), status=status,
                            variables=variables)
    elif provider == TWILIO:
        account_sid = _text(body, "accountSid")
        if account_sid not in state.twilio:
            raise bad_request("accountSid must name a registered Twilio account")
        sid = _text(body, "contentSid") or state.sid("HX")
        template = Template(id=sid, provider=TWILIO, owner=account_sid, name=sid,
                            language=_text(body, "language") or "en", status="approved", variables=variables)
    else:
        raise bad_request(f"provider must be {WHATSAPP} or {TWILIO} (Instagram has no templates)")
    state.templates.append(template)
    return web.json_response(template.as_json())


async def template_status(request: web.Request) -> web.Response:
    """Changes a WhatsApp template's status (`{id, status, reason?}`) and, unless `deliver: false`, sends Meta's
    signed `message_template_status_update` webhook (to `target` or the simulator's target)."""
    state, body = state_of(request), await json_body(request)
    template = next((t for t in state.templates if t.id == _text(body, "id") and t.provider == WHATSAPP), None)
    status = (_text(body, "status") or "").upper()
    if template is None:
        raise web.HTTPNotFound(text='{"error": "no WhatsApp template with that id"}', content_type="application/json")
    if status not in _META_STATUSES:
        raise bad_request(f"status must be one of {', '.join(_META_STATUSES)}")
    template.status = status
    answer: dict[str, Any] = {"template": template.as_json()}
    account = next((a for a in state.meta.values() if a.provider == WHATSAPP and a.waba_id == template.owner), None)
    if account is None:
        return web.json_response(answer | {"delivered": False, "skipped": "no WhatsApp account has this WABA id"})
    url = (_text(body, "target") or state.target).rstrip("/") + deliver.WEBHOOK_PATHS[WHATSAPP]
    webhook = deliver.meta_webhook(url, account, deliver.template_status(account, template, state.clock.now(),
                                                                         _text(body, "reason")))
    answer |= {"url": webhook.url, "payload": webhook.payload}
    if body.get("deliver", True) is False:
        return web.json_response(answer | {"delivered": False})
    outcome = await deliver.post(request.app[CLIENT], webhook, state=state,
                                 note={"kind": "template_status", "templateId": template.id, "status": status})
    return web.json_response(answer | outcome | {"delivered": True})


async def list_reads(request: web.Request) -> web.Response:
    return web.json_response({"reads": state_of(request).reads})


async def list_deliveries(request: web.Request) -> web.Response:
    """The webhooks the simulator POSTed. `?wait=1` first waits (≤ 10 s) for the status callbacks under way."""
    if request.query.get("wait") in ("1", "true"):
        pending = list(request.app[TASKS])
        if pending:
            await asyncio.wait(pending, timeout=10)
    return web.json_response({"deliveries": request.app[STATE].deliveries})
