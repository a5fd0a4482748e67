"""Message templates of a team's WhatsApp accounts: kept here, submitted for the provider's review, and moved by
the provider's verdict.

* WhatsApp Cloud (Meta): `submit` posts the template to the WABA's `message_templates` (pending, with Meta's
  template id); Meta's `message_template_status_update` webhook then approves, rejects (with the reason), pauses
  or disables it (`template_events.apply_template_event`, called by ingestion).
* Twilio: templates are Content Templates made and reviewed in Twilio (Console or Content API). One is registered
  here by its ContentSid (`providerTemplateId`, `HX…`) with a copy of its body, so the variables can be counted
  before any send. commsinbox does not read Twilio's approval status: `submit` records the manager's word that
  Twilio approved it (status approved). Should Twilio refuse it anyway, the send fails with the provider's code
  (templates error 21654–21656, reason `template_rejected`).
* Instagram and WhatsApp Web (Baileys) have no templates: creating one is refused (`accountId`).

Submission and every verdict of the provider are entries in the team's audit log.
"""
from __future__ import annotations

import attrs

from ...ports.clock import Clock, IdGenerator
from ...ports.providers import ProviderRegistry
from ...ports.unit_of_work import TeamUnitOfWork, UnitOfWorkFactory
from ..model import audit, events
from ..model.accounts import CommunicationAccount
from ..model.audit import AuditEvent
from ..model.channels import Provider
from ..model.errors import Conflict, InvalidInput, NotFound
from ..model.templates import Template, TemplateCategory, TemplateStatus
from ..model.values import Permission
from .access import Actor
from .connections import ConnectionService
from .template_events import template_event

TEMPLATE_PROVIDERS = frozenset({Provider.WHATSAPP_META, Provider.WHATSAPP_TWILIO})
EDITABLE = frozenset({TemplateStatus.DRAFT, TemplateStatus.REJECTED})
_CONTENT_SID_LENGTH = 34  # "HX" + 32 hex digits


@attrs.frozen
class TemplateDraft:
    account_id: str
    name: str
    language: str
    body: str
    category: str = TemplateCategory.UTILITY.value
    provider_template_id: str | None = None  # Twilio: the Content SID


@attrs.frozen
class TemplateChanges:
    name: str | None = None
    language: str | None = None
    body: str | None = None
    category: str | None = None
    provider_template_id: str | None = None


@attrs.define
class TemplatesService:
    uows: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    providers: ProviderRegistry
    connections: ConnectionService

    async def list(self, actor: Actor, account_id: str | None = None) -> list[Template]:
        """Agents see the templates too: they choose one to send."""
        actor.require(Permission.INBOX_READ)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            return await uow.templates.list(account_id)

    async def get(self, actor: Actor, id: str) -> Template:
        actor.require(Permission.INBOX_READ)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            return await _template(uow, id)

    async def create(self, actor: Actor, draft: TemplateDraft) -> Template:
        actor.require(Permission.TEMPLATES_MANAGE)
        now = self.clock.now()
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            account = await _account(uow, draft.account_id)
            template = Template.create(self.ids.new_id(), account.id, draft.name, draft.language,
                                       _category(draft.category), draft.body, now,
                                       provider_template_id=_provider_id(account, draft.provider_template_id))
            await uow.templates.add(template)
            await uow.commit()
        return template

    async def update(self, actor: Actor, id: str, changes: TemplateChanges) -> Template:
        """Only a draft or a rejected template may change (a rejected one goes back to draft, to be submitted
        again); an approved one is replaced by a new template instead."""
        actor.require(Permission.TEMPLATES_MANAGE)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            template = await _template(uow, id)
            account = await _account(uow, template.account_id)
            if template.status not in EDITABLE:
                raise InvalidInput.single("id", f"a {template.status.value} template cannot change; create a new one")
            changed = Template.create(
                template.id, template.account_id, changes.name if changes.name is not None else template.name,
                changes.language if changes.language is not None else template.language,
                _category(changes.category) if changes.category is not None else template.category,
                changes.body if changes.body is not None else template.body, template.created_at,
                provider_template_id=(_provider_id(account, changes.provider_template_id)
                                      if changes.provider_template_id is not None else template.provider_template_id))
            changed.updated_at, changed.version = self.clock.now(), template.version + 1
            if account.provider is Provider.WHATSAPP_META:
                changed.provider_template_id = None  # a new submission gets a new Meta template
            if not await uow.templates.update(changed):
                raise Conflict("the template changed meanwhile; read it again")
            await uow.commit()
        return changed

    async def delete(self, actor: Actor, id: str) -> None:
        """Forgets it here; a template submitted to Meta stays in the WhatsApp Manager."""
        actor.require(Permission.TEMPLATES_MANAGE)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            if not await uow.templates.delete(id):
                raise NotFound("template", id)
            await uow.commit()

    async def submit(self, actor: Actor, id: str) -> Template:
        """Meta: to review (pending, with Meta's id). Twilio: registered as approved (see the module's doc)."""
        actor.require(Permission.TEMPLATES_MANAGE)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            template = await _template(uow, id)
            account = await _account(uow, template.account_id)
        if template.status not in EDITABLE:
            raise InvalidInput.single("id", f"the template is {template.status.value}: only a draft or a rejected "
                                            "template is submitted")
        if account.provider is Provider.WHATSAPP_META:
            provider_id: str | None = await self.providers.gateway(account.provider).submit_template(
                self.connections.access(account), template.name, template.language, template.category.value,
                template.body)
            status = TemplateStatus.PENDING
        else:
            provider_id, status = template.provider_template_id, TemplateStatus.APPROVED
        now = self.clock.now()
        template.status, template.provider_template_id, template.rejection_reason = status, provider_id, None
        template.updated_at, template.version = now, template.version + 1
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            if not await uow.templates.update(template):
                raise Conflict("the template changed while it was submitted; read it again")
            await uow.outbox.add(events.TEMPLATE_STATUS_CHANGED, template_event(template), now)
            await uow.audit.append(AuditEvent(audit.user_actor(actor.user_id), audit.TEMPLATE_SUBMITTED,
                                              f"template:{template.id}", now, template_event(template)))
            await uow.commit()
        return template


async def _template(uow: TeamUnitOfWork, id: str) -> Template:
    template = await uow.templates.get(id)
    if template is None:
        raise NotFound("template", id)
    return template


async def _account(uow: TeamUnitOfWork, id: str) -> CommunicationAccount:
    account = await uow.accounts.get(id)
    if account is None:
        raise NotFound("account", id)
    if account.provider not in TEMPLATE_PROVIDERS:
        raise InvalidInput.single("accountId", f"{account.provider.value} accounts have no message templates "
                                               "(only WhatsApp through Meta or Twilio)")
    return account


def _category(value: str) -> TemplateCategory:
    try:
        return TemplateCategory(value.lower() if isinstance(value, str) else value)
    except ValueError:
        raise InvalidInput.single("category", "must be utility, marketing or authentication") from None


def _provider_id(account: CommunicationAccount, value: str | None) -> str | None:
    """Twilio needs the Content SID; Meta gives its id on submission, so none is taken from the caller."""
    if account.provider is Provider.WHATSAPP_TWILIO:
        valid = (isinstance(value, str) and len(value) == _CONTENT_SID_LENGTH and value.startswith("HX")
                 and all(c in "0123456789abcdefABCDEF" for c in value[2:]))
        if not valid:
            raise InvalidInput.single("providerTemplateId", "a Twilio template is registered by its Content SID "
                                                            "(HX followed by 32 hex digits)")
        return value
    if value is not None:
        raise InvalidInput.single("providerTemplateId", "Meta gives the template id when it is submitted")
    return None
