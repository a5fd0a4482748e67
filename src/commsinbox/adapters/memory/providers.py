"""A provider gateway in process memory: accepts the credentials it is told to and serves registered media.
First-class for tests, BDD and embedding without network access."""
from __future__ import annotations

import attrs

from ...domain.model.channels import Provider
from ...domain.model.inbound import MediaRef
from ...ports.providers import AccountAccess, CredentialsRejected, Media, MediaTooLarge, ProviderError


@attrs.define
class MemoryProviderGateway:
    provider: Provider
    rejected_tokens: set[str] = attrs.field(factory=set)
    media: dict[str, Media] = attrs.field(factory=dict)  # by media id or URL
    outages: int = 0  # the next N media downloads fail as a provider outage would (transient)

    async def verify(self, access: AccountAccess) -> None:
        secret = access.credentials.get("accessToken") or access.credentials.get("authToken")
        if secret in self.rejected_tokens:
            raise CredentialsRejected(f"{self.provider.value} refused the credentials", code="190")

    async def fetch_media(self, access: AccountAccess, media: MediaRef, max_bytes: int) -> Media:
        if self.outages > 0:
            self.outages -= 1
            raise ProviderError(f"{self.provider.value} is unavailable (503)", transient=True, code="503")
        found = self.media.get(media.media_id or "") or self.media.get(media.url or "")
        if found is None:
            raise ProviderError(f"{self.provider.value} has no such media", transient=False, code="404")
        if len(found.data) > max_bytes:
            raise MediaTooLarge(len(found.data), max_bytes)
        return found


@attrs.define
class MemoryProviderRegistry:
    gateways: dict[Provider, MemoryProviderGateway] = attrs.field(factory=lambda: {
        p: MemoryProviderGateway(p) for p in (Provider.WHATSAPP_TWILIO, Provider.WHATSAPP_META,
                                             Provider.INSTAGRAM_META)})

    def gateway(self, provider: Provider) -> MemoryProviderGateway:
        if provider not in self.gateways:
            raise ProviderError(f"{provider.value} accounts cannot be used in this version", transient=False)
        return self.gateways[provider]
