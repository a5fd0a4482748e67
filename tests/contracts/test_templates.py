"""Message templates on both adapters: CRUD and permissions, submission (Meta, Twilio), the provider's verdict from
webhooks, and template and media sends through the policy engine to the gateway."""
from __future__ import annotations

import datetime as dt
import uuid

import attrs
import pytest

from commsinbox.adapters.memory.providers import MemoryProviderRegistry
from commsinbox.domain.model import events
from commsinbox.domain.model.channels import MessageType, Provider
from commsinbox.domain.model.errors import Conflict, Forbidden, InvalidInput, NotFound, PolicyBlocked
from commsinbox.domain.model.paging import PageRequest
from commsinbox.domain.model.inbound import MediaRef, TemplateStatusChanged
from commsinbox.domain.model.threads import Message
from commsinbox.domain.model.templates import TemplateStatus
from commsinbox.domain.model.values import Role
from commsinbox.domain.usecases.connections import Connect
from commsinbox.domain.usecases.outbound import SendRequest
from commsinbox.domain.usecases.outbound_content import TemplateUse
from commsinbox.domain.usecases.templates import TemplateChanges, TemplateDraft
from commsinbox.entrypoints.container import Services
from commsinbox.ports.providers import Media
from tests.conftest import Member, join, make_team
from tests.contracts.test_inbox import threads_of
from tests.contracts.test_ingest import T0, text
from tests.contracts.test_live import Subscriber
from tests.support import sending

pytestmark = pytest.mark.integration
LATER = T0 + dt.timedelta(days=2)  # the 24-hour window closed long ago
SID = "HX" + "ab" * 16


@attrs.define
class World:
    services: Services
    registry: MemoryProviderRegistry
    owner: Member
    account_id: str
    external_id: str
    waba_id: str

    @property
    def templates(self):  # type: ignore[no-untyped-def]
        return attrs.evolve(self.services.templates, providers=self.registry)

    def outbound(self, now: dt.datetime = LATER):  # type: ignore[no-untyped-def]
        return sending.outbound_at(self.services, now, self.registry)


    async def dispatch(self, message: Message, now: dt.datetime = LATER) -> int:
        return await sending.dispatch(self.services, self.outbound(now), message)


async def world(services: Services, provider: Provider = Provider.WHATSAPP_META) -> World:
    registry, owner = MemoryProviderRegistry(), await make_team(services)
    waba, external = f"{uuid.uuid4().int % 10**15}", f"{uuid.uuid4().int % 10**15}"
    credentials = {Provider.WHATSAPP_META: {"accessToken": "EAAG-test", "wabaId": waba},
                   Provider.WHATSAPP_TWILIO: {"accountSid": "AC" + "0" * 32, "authToken": "secret"},
                   Provider.INSTAGRAM_META: {"accessToken": "IGQ-test"}}[provider]
    if provider is Provider.WHATSAPP_TWILIO:
        external = "+1415" + external[:7]
    account = await attrs.evolve(services.connections, providers=registry).connect(
        owner.actor, Connect(provider.value, "Shop", external, credentials))
    return World(services, registry, owner, account.id, account.external_id, waba)


async def customer_thread(w: World, minutes: int = 0, **extra: object) -> str:
    await w.services.ingest.ingest([text(w.external_id, minutes=minutes, **extra)])
    [view] = await threads_of(w.services, w.owner)
    return str(view.thread.id)


async def approved(w: World, body: str = "Hi {{1}}, order {{2}} shipped") -> str:
    template = await w.templates.create(w.owner.actor, TemplateDraft(w.account_id, "order_shipped", "en_US", body))
    submitted = await w.templates.submit(w.owner.actor, template.id)
    await w.services.ingest.ingest([TemplateStatusChanged(Provider.WHATSAPP_META, w.waba_id,
                                                          str(submitted.provider_template_id), "order_shipped",
                                                          "en_US", "APPROVED", T0)])
    return template.id


async def test_templates_are_created_listed_changed_and_deleted_by_managers_only(services: Services) -> None:
    w = await world(services)
    draft = TemplateDraft(w.account_id, "welcome", "pt-br", "Olá {{1}}!", "marketing")
    template = await w.templates.create(w.owner.actor, draft)
    assert (template.language, template.status, template.variable_count) == ("pt_BR", TemplateStatus.DRAFT, 1)
    with pytest.raises(Conflict):
        await w.templates.create(w.owner.actor, draft)
    agent = await join(services, w.owner, Role.AGENT)
    assert [t.id for t in await w.templates.list(agent.actor)] == [template.id]  # agents choose templates to send
    with pytest.raises(Forbidden):
        await w.templates.create(agent.actor, attrs.evolve(draft, name="other"))
    changed = await w.templates.update(w.owner.actor, template.id, TemplateChanges(body="Olá {{1}}, {{2}}!"))
    assert changed.variable_count == 2 and (await w.templates.get(w.owner.actor, template.id)).body == "Olá {{1}}, {{2}}!"
    await w.templates.delete(w.owner.actor, template.id)
    assert await w.templates.list(w.owner.actor) == []
    with pytest.raises(NotFound):
        await w.templates.delete(w.owner.actor, template.id)


@pytest.mark.parametrize(("field", "draft"), [
    ("name", TemplateDraft("", "Order Shipped", "en", "Hi")),
    ("language", TemplateDraft("", "order", "english", "Hi")),
    ("body", TemplateDraft("", "order", "en", "Hi {{2}}")),
    ("category", TemplateDraft("", "order", "en", "Hi", "promo")),
    ("providerTemplateId", TemplateDraft("", "order", "en", "Hi", provider_template_id=SID)),  # Meta gives it
])
async def test_a_bad_template_is_refused_naming_the_field(services: Services, field: str,
                                                          draft: TemplateDraft) -> None:
    w = await world(services)
    with pytest.raises(InvalidInput) as refused:
        await w.templates.create(w.owner.actor, attrs.evolve(draft, account_id=w.account_id))
    assert [f.path for f in refused.value.fields] == [field]
    assert await w.templates.list(w.owner.actor) == []


async def test_instagram_accounts_have_no_templates(services: Services) -> None:
    w = await world(services, Provider.INSTAGRAM_META)
    with pytest.raises(InvalidInput) as refused:
        await w.templates.create(w.owner.actor, TemplateDraft(w.account_id, "hello", "en", "Hi"))
    assert refused.value.fields[0].path == "accountId"


async def test_a_meta_template_is_submitted_then_approved_or_rejected_by_webhook(services: Services) -> None:
    w = await world(services)
    template = await w.templates.create(w.owner.actor, TemplateDraft(w.account_id, "order_shipped", "en_US",
                                                                     "Hi {{1}}"))
    submitted = await w.templates.submit(w.owner.actor, template.id)
    [record] = w.registry.gateway(Provider.WHATSAPP_META).templates
    assert (submitted.status, submitted.provider_template_id) == (TemplateStatus.PENDING, record.template_id)
    assert (record.name, record.language, record.category, record.body) == ("order_shipped", "en_US", "UTILITY",
                                                                            "Hi {{1}}")
    with pytest.raises(InvalidInput):  # pending: neither submitted again nor edited
        await w.templates.submit(w.owner.actor, template.id)

    rejected = TemplateStatusChanged(Provider.WHATSAPP_META, w.waba_id, record.template_id, "order_shipped", "en_US",
                                     "REJECTED", T0, reason="INVALID_FORMAT")
    await services.ingest.ingest([rejected])
    await services.ingest.ingest([rejected])  # a replay changes nothing
    found = await w.templates.get(w.owner.actor, template.id)
    assert (found.status, found.rejection_reason) == (TemplateStatus.REJECTED, "INVALID_FORMAT")
    async with services.uows.for_team(w.owner.team_id) as uow:
        changes = [e.payload for e in await uow.outbox.since(None, 100) if e.kind == events.TEMPLATE_STATUS_CHANGED]
    assert [(c["status"], c["reason"]) for c in changes] == [("pending", None), ("rejected", "INVALID_FORMAT")]

    await services.ingest.ingest([attrs.evolve(rejected, status="APPROVED", reason=None)])
    found = await w.templates.get(w.owner.actor, template.id)
    assert (found.status, found.rejection_reason) == (TemplateStatus.APPROVED, None)
    trail = [e for e in reversed((await services.audit.list(w.owner.actor)).items) if e.subject.startswith("template:")]
    assert [(e.action, e.actor, e.details["reason"]) for e in trail] == [
        ("template.submitted", f"user:{w.owner.user_id}", None), ("template.rejected", "provider", "INVALID_FORMAT"),
        ("template.approved", "provider", None)]
    assert (await services.audit.verify(w.owner.actor)).ok


async def test_a_twilio_template_is_registered_by_its_content_sid(services: Services) -> None:
    w = await world(services, Provider.WHATSAPP_TWILIO)
    with pytest.raises(InvalidInput) as refused:
        await w.templates.create(w.owner.actor, TemplateDraft(w.account_id, "order", "en", "Hi {{1}}"))
    assert refused.value.fields[0].path == "providerTemplateId"
    template = await w.templates.create(w.owner.actor, TemplateDraft(w.account_id, "order", "en", "Hi {{1}}",
                                                                     provider_template_id=SID))
    registered = await w.templates.submit(w.owner.actor, template.id)
    assert (registered.status, registered.provider_template_id) == (TemplateStatus.APPROVED, SID)
    assert w.registry.gateway(Provider.WHATSAPP_TWILIO).templates == []  # nothing is sent to Twilio


async def test_outside_the_window_an_approved_template_goes_with_its_variables(services: Services) -> None:
    w = await world(services)
    thread = await customer_thread(w)
    template_id = await approved(w)
    with pytest.raises(PolicyBlocked) as blocked:
        await w.outbound().send(w.owner.actor, SendRequest(thread, "k-text", "Still there?"))
    assert blocked.value.reason == "window_closed_template_required"
    queued = await w.outbound().send(w.owner.actor, SendRequest(thread, "k-tpl", template=TemplateUse(
        template_id, ("Ana", "#42"))))
    assert queued.message.content == "Hi Ana, order #42 shipped"
    await w.dispatch(queued.message)
    [sent] = w.registry.gateway(Provider.WHATSAPP_META).sent
    assert sent.message.template is not None and sent.message.text is None
    assert (sent.message.template.name, sent.message.template.language,
            sent.message.template.variables) == ("order_shipped", "en_US", ("Ana", "#42"))


@pytest.mark.parametrize(("variables", "reason"), [(("Ana",), "template_variables_mismatch"),
                                                   (("Ana", " "), "template_variables_mismatch")])
async def test_a_template_send_without_all_its_variables_is_blocked(services: Services, variables: tuple[str, ...],
                                                                    reason: str) -> None:
    w = await world(services)
    thread, template_id = await customer_thread(w), await approved(w)
    with pytest.raises(PolicyBlocked) as blocked:
        await w.outbound().send(w.owner.actor, SendRequest(thread, "k", template=TemplateUse(template_id, variables)))
    assert blocked.value.reason == reason


async def test_a_template_not_approved_is_blocked_and_an_unknown_one_not_found(services: Services) -> None:
    w = await world(services)
    thread = await customer_thread(w)
    draft = await w.templates.create(w.owner.actor, TemplateDraft(w.account_id, "promo", "en", "Sale!"))
    with pytest.raises(PolicyBlocked) as blocked:
        await w.outbound().send(w.owner.actor, SendRequest(thread, "k1", template=TemplateUse(draft.id)))
    assert blocked.value.reason == "template_not_approved"
    with pytest.raises(NotFound):
        await w.outbound().send(w.owner.actor, SendRequest(thread, "k2", template=TemplateUse(str(uuid.uuid4()))))
    with pytest.raises(InvalidInput):
        await w.outbound().send(w.owner.actor, SendRequest(thread, "k3", "hi", template=TemplateUse(draft.id)))
    assert len((await w.outbound().list(w.owner.actor, thread, PageRequest())).items) == 1  # nothing written


async def stored_image(w: World, content_type: str) -> tuple[str, str]:
    """A customer's image (of this type) downloaded into storage: (thread id, attachment id)."""
    w.registry.gateway(Provider.WHATSAPP_META).media["media-1"] = Media(b"\xff\xd8 image", content_type)
    message = attrs.evolve(text(w.external_id), type=MessageType.IMAGE, text=None,
                           media=(MediaRef(MessageType.IMAGE, media_id="media-1", content_type=content_type),))
    result = await w.services.ingest.ingest([message])
    await attrs.evolve(w.services.media, providers=w.registry).fetch(result.with_media)
    async with w.services.uows.for_team(w.owner.team_id) as uow:
        [(_, message_id)] = result.with_media
        [attachment] = await uow.messages.attachments(message_id)
        found = await uow.messages.get(message_id)
    assert attachment.storage_path is not None and found is not None
    return found.thread_id, attachment.id


async def test_a_stored_image_is_sent_with_its_caption(services: Services) -> None:
    w = await world(services)
    thread, attachment = await stored_image(w, "image/jpeg")
    queued = await w.outbound(T0 + dt.timedelta(minutes=5)).send(
        w.owner.actor, SendRequest(thread, "k-img", "Is this the one?", attachment_ids=(attachment,)))
    assert queued.message.type is MessageType.IMAGE
    await w.dispatch(queued.message, T0 + dt.timedelta(minutes=5))
    [sent] = w.registry.gateway(Provider.WHATSAPP_META).sent
    assert sent.message.media is not None
    assert (sent.message.media.data, sent.message.media.content_type, sent.message.media.caption) == (
        b"\xff\xd8 image", "image/jpeg", "Is this the one?")


async def test_media_the_provider_refuses_is_a_bad_request_before_anything_is_stored(services: Services) -> None:
    w = await world(services)
    thread, attachment = await stored_image(w, "image/gif")  # WhatsApp takes JPEG and PNG images only
    with pytest.raises(InvalidInput) as refused:
        await w.outbound(T0 + dt.timedelta(minutes=5)).send(
            w.owner.actor, SendRequest(thread, "k-gif", attachment_ids=(attachment,)))
    assert refused.value.fields[0].path == "attachmentIds"
    with pytest.raises(NotFound):
        await w.outbound(T0 + dt.timedelta(minutes=5)).send(
            w.owner.actor, SendRequest(thread, "k-none", attachment_ids=(str(uuid.uuid4()),)))
    assert w.registry.gateway(Provider.WHATSAPP_META).sent == []


async def test_an_agent_watching_the_live_stream_sees_the_verdict(services: Services) -> None:
    w = await world(services)
    agent = await join(services, w.owner, Role.AGENT)
    template = await w.templates.create(w.owner.actor, TemplateDraft(w.account_id, "order_shipped", "en_US", "Hi"))
    submitted = await w.templates.submit(w.owner.actor, template.id)
    async with Subscriber(services, agent.actor) as stream:
        await services.ingest.ingest([TemplateStatusChanged(Provider.WHATSAPP_META, w.waba_id,
                                                            str(submitted.provider_template_id), "order_shipped",
                                                            "en_US", "REJECTED", T0, reason="PROMOTIONAL")])
        entry = await stream.next()
    assert (entry.kind, entry.payload["templateId"], entry.payload["status"], entry.payload["reason"]) == (
        events.TEMPLATE_STATUS_CHANGED, template.id, "rejected", "PROMOTIONAL")


async def test_a_file_gone_from_storage_fails_the_send_instead_of_hanging(services: Services) -> None:
    w = await world(services)
    thread, attachment = await stored_image(w, "image/jpeg")
    later = w.outbound(T0 + dt.timedelta(minutes=5))
    queued = await later.send(w.owner.actor, SendRequest(thread, "k-gone", attachment_ids=(attachment,)))
    await services.storage.delete(str(queued.message.meta["media"]["storagePath"]))  # type: ignore[index]
    await sending.dispatch(services, later, queued.message)
    assert w.registry.gateway(Provider.WHATSAPP_META).sent == []  # failed before any provider call
    async with services.uows.for_team(w.owner.team_id) as uow:
        failed = await uow.messages.get(queued.message.id)
    assert failed is not None and (failed.status.value, failed.error_message) == (
        "failed", "the attachment's file is no longer in storage")
    assert w.registry.gateway(Provider.WHATSAPP_META).sent == []


async def test_another_teams_templates_and_accounts_are_not_found(services: Services) -> None:
    theirs, ours = await world(services), await make_team(services)
    template = await theirs.templates.create(theirs.owner.actor, TemplateDraft(theirs.account_id, "secret", "en", "Hi"))
    attempts = [theirs.templates.get(ours.actor, template.id), theirs.templates.submit(ours.actor, template.id),
                theirs.templates.update(ours.actor, template.id, TemplateChanges(body="Planted")),
                theirs.templates.delete(ours.actor, template.id),
                theirs.templates.create(ours.actor, TemplateDraft(theirs.account_id, "planted", "en", "Hi"))]
    for attempt in attempts:
        with pytest.raises(NotFound):
            await attempt
    assert await theirs.templates.list(ours.actor) == []
    assert [(t.id, t.body, t.status) for t in await theirs.templates.list(theirs.owner.actor)] == [
        (template.id, "Hi", TemplateStatus.DRAFT)]
