"""A provider gateway in process memory: accepts the credentials it is told to, serves registered media, and
records what it was asked to send. First-class for tests, BDD and embedding without network access.

Sending applies the real provider's checks that need no network (media rules, captions, text limits, templates —
the same pure functions the HTTP adapters use), then records the message. Failures are configured by queueing
`ProviderError`s in `send_failures` (each send pops the first) or with `fail_next_sends(...)`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from ...domain.model.channels import Provider
from ...domain.model.errors import InvalidInput
from ...domain.model.inbound import MediaRef
from ...ports.providers import (AccountAccess, CredentialsRejected, FailureReason, Media, MediaTooLarge, Outgoing,
                                OutgoingMedia, ProviderError, Sent)
from ..providers.meta_instagram import outbound as instagram
from ..providers.meta_whatsapp import outbound as whatsapp
from ..providers.twilio_whatsapp import outbound as twilio

_CHECKS: Mapping[Provider, Callable[[OutgoingMedia], None]] = {
    Provider.WHATSAPP_TWILIO: twilio.check_media, Provider.WHATSAPP_META: whatsapp.check_media,
    Provider.INSTAGRAM_META: instagram.check_media}


@attrs.frozen
class SentRecord:
    access: AccountAccess
    message: Outgoing
    provider_message_id: str


@attrs.frozen
class ReadRecord:
    access: AccountAccess
    provider_message_id: str
    contact_external_id: str


@attrs.frozen
class TemplateRecord:
    access: AccountAccess
    name: str
    language: str
    category: str
    body: str
    template_id: str


@attrs.define
class MemoryProviderGateway:
    provider: Provider
    rejected_tokens: set[str] = attrs.field(factory=set)
    media: dict[str, Media] = attrs.field(factory=dict)  # by media id or URL
    outages: int = 0  # the next N media downloads fail as a provider outage would (transient)
    sent: list[SentRecord] = attrs.field(factory=list)
    reads: list[ReadRecord] = attrs.field(factory=list)
    templates: list[TemplateRecord] = attrs.field(factory=list)
    send_failures: list[ProviderError] = attrs.field(factory=list)  # raised by the next sends, first first
    attempts: int = 0  # send calls, including the failed ones
    _counter: int = 0

    async def verify(self, access: AccountAccess) -> None:
        self._check_credentials(access)

    async def fetch_media(self, access: AccountAccess, media: MediaRef, max_bytes: int) -> Media:
        if self.outages > 0:
            self.outages -= 1
            raise ProviderError(f"{self.provider.value} is unavailable (503)", transient=True, code="503",
                                reason=FailureReason.UNAVAILABLE)
        found = self.media.get(media.media_id or "") or self.media.get(media.url or "")
        if found is None:
            raise ProviderError(f"{self.provider.value} has no such media", transient=False, code="404")
        if len(found.data) > max_bytes:
            raise MediaTooLarge(len(found.data), max_bytes)
        return found

    def check_media(self, media: OutgoingMedia) -> None:
        check = _CHECKS.get(self.provider)
        if check is not None:
            check(media)

    async def send(self, access: AccountAccess, message: Outgoing) -> Sent:
        self.attempts += 1
        self._check_message(access, message)
        self._check_credentials(access)
        if self.send_failures:
            raise self.send_failures.pop(0)
        self._counter += 1
        sent = SentRecord(access, message, f"{self.provider.value}-out-{self._counter}")
        self.sent.append(sent)
        return Sent(provider_message_id=sent.provider_message_id)

    def fail_next_sends(self, *errors: ProviderError) -> None:
        self.send_failures.extend(errors)

    async def mark_read(self, access: AccountAccess, provider_message_id: str, contact_external_id: str) -> None:
        self._check_credentials(access)
        if self.provider is not Provider.WHATSAPP_TWILIO:  # Twilio has no read receipts: nothing happens
            self.reads.append(ReadRecord(access, provider_message_id, contact_external_id))

    async def submit_template(self, access: AccountAccess, name: str, language: str, category: str,
                              body: str) -> str:
        if self.provider is not Provider.WHATSAPP_META:
            raise ProviderError(f"{self.provider.value} has no template submission", transient=False,
                                reason=FailureReason.UNSUPPORTED)
        whatsapp.template_payload(name, language, category, body)
        self._check_credentials(access)
        self._counter += 1
        template_id = str(1_000_000 + self._counter)
        self.templates.append(TemplateRecord(access, name, language, category.upper(), body, template_id))
        return template_id

    def _check_message(self, access: AccountAccess, message: Outgoing) -> None:
        """The real adapter's offline checks (InvalidInput / invalid recipient) for the three HTTP providers."""
        if self.provider is Provider.WHATSAPP_TWILIO:
            twilio.message_form(access.external_id.removeprefix("whatsapp:"), message)
        elif self.provider is Provider.WHATSAPP_META:
            if message.media is not None and not message.media.url and message.media.data is None:
                raise InvalidInput.single("attachmentIds", "the attachment has neither a URL nor data to upload")
            whatsapp.message_payload(message, media_id="memory" if message.media is not None else None)
        elif self.provider is Provider.INSTAGRAM_META:
            instagram.message_payload(message)

    def _check_credentials(self, access: AccountAccess) -> None:
        secret = access.credentials.get("accessToken") or access.credentials.get("authToken")
        if secret in self.rejected_tokens:
            raise CredentialsRejected(f"{self.provider.value} refused the credentials", code="190")


@attrs.define
class MemoryProviderRegistry:
    gateways: dict[Provider, MemoryProviderGateway] = attrs.field(factory=lambda: {
        p: MemoryProviderGateway(p) for p in (Provider.WHATSAPP_TWILIO, Provider.WHATSAPP_META,
                                             Provider.INSTAGRAM_META)})

    def gateway(self, provider: Provider) -> MemoryProviderGateway:
        if provider not in self.gateways:
            raise ProviderError(f"{provider.value} accounts cannot be used in this version", transient=False)
        return self.gateways[provider]
