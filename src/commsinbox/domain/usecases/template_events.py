"""The provider's verdict on a template (Meta's `message_template_status_update`), applied during ingestion."""
from __future__ import annotations

import logging

from ...ports.unit_of_work import TeamUnitOfWork
from ..model import audit, events
from ..model.audit import AuditEvent
from ..model.errors import InvalidInput
from ..model.ids import AccountId
from ..model.inbound import TemplateStatusChanged
from ..model.languages import language_code
from ..model.templates import Template

log = logging.getLogger("commsinbox.templates")


async def apply_template_event(uow: TeamUnitOfWork, account_id: AccountId, event: TemplateStatusChanged) -> None:
    """The provider's review of one of the account's templates (by its provider id, else name + language).
    A replay, an unknown template or an event that changes nothing writes nothing."""
    language = _language_or_none(event.language)
    template = await uow.templates.find(account_id, provider_template_id=event.template_id, name=event.name,
                                        language=language)
    if template is None:
        log.info("template event for a template not kept here", extra={"account": account_id,
                                                                        "providerTemplateId": event.template_id})
        return
    if template.provider_template_id is None:
        template.provider_template_id = event.template_id
    if not template.provider_says(event.status, event.reason, event.at):
        return
    if await uow.templates.update(template):
        await uow.audit.append(AuditEvent(audit.PROVIDER, audit.template_verdict(template.status.value),
                                          f"template:{template.id}", event.at, template_event(template)))
        await uow.outbox.add(events.TEMPLATE_STATUS_CHANGED, template_event(template), event.at)


def template_event(template: Template) -> dict[str, object]:
    return {"templateId": template.id, "accountId": template.account_id, "name": template.name,
            "language": template.language, "status": template.status.value, "reason": template.rejection_reason}


def _language_or_none(value: str) -> str | None:
    try:
        return language_code(value)
    except InvalidInput:
        return None
