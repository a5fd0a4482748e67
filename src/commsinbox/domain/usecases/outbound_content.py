"""What an outbound message carries: text, one stored attachment (with an optional caption) or an approved template
with its variables. Checked when the message is queued, before anything is stored or sent; kept on the message
(`meta.template`, `meta.media`) so the send job can build the provider's request from the stored message alone.
"""
from __future__ import annotations

import datetime as dt
import re

import attrs

from ...ports.providers import (FailureReason, Outgoing, OutgoingMedia, OutgoingTemplate, ProviderError, ProviderGateway,
                                ProviderRegistry)
from ...ports.storage import BlobStorage
from ...ports.unit_of_work import TeamUnitOfWork
from ..model.accounts import CommunicationAccount
from ..model.channels import MEDIA_TYPES, MessageType, Provider
from ..model.errors import InvalidInput, NotFound
from ..model.templates import Template
from ..model.threads import Message, Thread
from .access import Actor
from .inbox import visible_thread

MAX_TEXT = 4096
# Twilio and Instagram fetch media from a public link; stored attachments have none yet, so only WhatsApp Cloud
# (which takes an upload) sends them.
UPLOADS_MEDIA = frozenset({Provider.WHATSAPP_META})
CAPTIONED = frozenset({MessageType.IMAGE, MessageType.VIDEO, MessageType.DOCUMENT})  # WhatsApp Cloud
_PLACEHOLDER = re.compile(r"\{\{([1-9][0-9]*)\}\}")


@attrs.frozen
class TemplateUse:
    id: str
    variables: tuple[str, ...] = attrs.field(default=(), converter=tuple)


@attrs.frozen
class Content:
    type: MessageType
    text: str | None  # what the thread shows: the text, the caption, or the template's body filled in
    meta: dict[str, object]
    template: Template | None = None
    variables: tuple[str, ...] = ()


async def content_of(uow: TeamUnitOfWork, actor: Actor, account: CommunicationAccount, providers: ProviderRegistry,
                     text: str | None, template: TemplateUse | None, attachment_ids: tuple[str, ...],
                     now: dt.datetime) -> Content:
    """Raises InvalidInput naming the field, or NotFound for an unknown template or attachment."""
    if template is not None:
        if text is not None or attachment_ids:
            raise InvalidInput.single("template", "a template is sent alone: no text or attachments with it")
        return await _template(uow, account, template)
    if attachment_ids:
        return await _media(uow, actor, account, providers.gateway(account.provider), attachment_ids, _text(text) if text is not None else None,
                            now)
    if text is None:
        raise InvalidInput.single("text", "give text, attachmentIds or a template")
    return Content(MessageType.TEXT, _text(text), {})


async def _template(uow: TeamUnitOfWork, account: CommunicationAccount, use: TemplateUse) -> Content:
    found = await uow.templates.get(use.id)
    if found is None:
        raise NotFound("template", use.id)
    if any(not isinstance(v, str) for v in use.variables):
        raise InvalidInput.single("template.variables", "must be strings")
    send_as = found.provider_template_id if account.provider is Provider.WHATSAPP_TWILIO else found.name
    meta = {"template": {"id": found.id, "name": found.name, "language": found.language, "sendAs": send_as,
                         "variables": list(use.variables)}}
    return Content(MessageType.TEXT, _filled(found.body, use.variables), meta, found, use.variables)


async def _media(uow: TeamUnitOfWork, actor: Actor, account: CommunicationAccount, gateway: ProviderGateway,
                 ids: tuple[str, ...], caption: str | None, now: dt.datetime) -> Content:
    if len(ids) != 1:
        raise InvalidInput.single("attachmentIds", "WhatsApp and Instagram carry one attachment per message")
    attachment = await uow.messages.attachment(ids[0])
    source = await uow.messages.get(attachment.message_id) if attachment else None
    if attachment is None or source is None:
        raise NotFound("attachment", ids[0])
    try:
        await visible_thread(uow, actor, source.thread_id, now)
    except NotFound:
        raise NotFound("attachment", ids[0]) from None
    if attachment.storage_path is None or attachment.size is None or attachment.kind not in MEDIA_TYPES:
        raise InvalidInput.single("attachmentIds", "is not stored media (not downloaded yet, or not a file)")
    content_type = attachment.content_type or "application/octet-stream"
    gateway.check_media(OutgoingMedia(attachment.kind, content_type, attachment.size))
    if account.provider not in UPLOADS_MEDIA:
        raise InvalidInput.single("attachmentIds", f"{account.provider.value} fetches media from a public link, "
                                                   "which stored attachments do not have yet")
    if caption is not None and attachment.kind not in CAPTIONED:
        raise InvalidInput.single("text", f"a{'n' if attachment.kind.value[0] in 'aeiou' else ''} "
                                          f"{attachment.kind.value} is sent without a caption")
    meta = {"media": {"attachmentId": attachment.id, "kind": attachment.kind.value, "contentType": content_type,
                      "size": attachment.size, "checksum": attachment.checksum,
                      "storagePath": attachment.storage_path, "filename": attachment.source.get("filename")}}
    return Content(attachment.kind, caption, meta)


async def outgoing_of(message: Message, thread: Thread, storage: BlobStorage,
                      status_callback_url: str | None) -> Outgoing:
    """The provider request for a queued message, from what `content_of` stored on it. A stored file that is gone
    fails the send (as a permanent ProviderError, so the send job records it on the message)."""
    template = media = None
    if isinstance(found := message.meta.get("template"), dict):
        template = OutgoingTemplate(str(found["sendAs"]), str(found["language"]),
                                    tuple(str(v) for v in found.get("variables", [])))
    if isinstance(stored := message.meta.get("media"), dict):
        try:
            data = await storage.get(str(stored["storagePath"]))
        except NotFound:
            raise ProviderError("the attachment's file is no longer in storage", transient=False,
                                reason=FailureReason.MEDIA_REJECTED) from None
        media = OutgoingMedia(MessageType(stored["kind"]), str(stored["contentType"]), int(stored["size"]),
                              data=data, filename=stored.get("filename"), caption=message.content)
    return Outgoing(to=thread.external_contact_id, idempotency_key=message.idempotency_key or message.id,
                    text=None if template else message.content, media=media, template=template,
                    human_agent_tag=message.meta.get("tag") == "HUMAN_AGENT", status_callback_url=status_callback_url)


def _filled(body: str, variables: tuple[str, ...]) -> str:
    return _PLACEHOLDER.sub(lambda m: variables[int(m.group(1)) - 1] if int(m.group(1)) <= len(variables)
                            else m.group(0), body)


def _text(value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput.single("text", "must not be empty")
    if len(value) > MAX_TEXT:
        raise InvalidInput.single("text", f"must be at most {MAX_TEXT} characters")
    return value
