"""Provider name → gateway: the account's stored provider picks its adapter, so swapping providers is configuration.

`GatewayRegistry` implements the `ProviderRegistry` port; `http_gateways` builds the three HTTP gateways on one
shared session with configurable base URLs (the real APIs by default, the simulator in tests and demos).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping

import aiohttp

from ...domain.model.channels import Provider
from ...ports.providers import ProviderError, ProviderGateway
from .http import DEFAULT_TIMEOUT
from .meta_instagram.gateway import MetaInstagramGateway
from .meta_whatsapp.gateway import MetaWhatsAppGateway
from .twilio_whatsapp.gateway import TwilioWhatsAppGateway

__all__ = ["GatewayRegistry", "ProviderNotSupported", "http_gateways"]


class ProviderNotSupported(ProviderError):
    """No adapter is configured for this provider (e.g. WhatsApp Web before its bridge exists)."""

    def __init__(self, provider: Provider | str, available: list[str]) -> None:
        listed = ", ".join(available) or "none"
        super().__init__(f"no gateway for provider {str(provider)!r} in this deployment (available: {listed})",
                         transient=False)
        self.provider = provider


class GatewayRegistry:
    def __init__(self, gateways: Mapping[Provider, ProviderGateway]) -> None:
        for provider, gateway in gateways.items():
            declared = getattr(gateway, "provider", None)
            if declared != provider:
                raise ValueError(f"the gateway registered for {provider} says it serves {declared!r}")
        self._gateways: dict[Provider, ProviderGateway] = dict(gateways)

    def gateway(self, provider: Provider) -> ProviderGateway:
        try:
            return self._gateways[Provider(provider)]
        except (KeyError, ValueError):
            raise ProviderNotSupported(provider, sorted(str(p) for p in self._gateways)) from None

    @property
    def providers(self) -> frozenset[Provider]:
        return frozenset(self._gateways)

    def __contains__(self, provider: object) -> bool:
        return provider in self._gateways

    def __iter__(self) -> Iterator[Provider]:
        return iter(self._gateways)


def http_gateways(session: aiohttp.ClientSession, *, twilio_base_url: str = "https://api.twilio.com",
                  graph_base_url: str = "https://graph.facebook.com", graph_version: str = "v23.0",
                  timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT) -> GatewayRegistry:
    """The Twilio, WhatsApp Cloud and Instagram gateways (no WhatsApp Web: it is not an HTTP API)."""
    return GatewayRegistry({
        Provider.WHATSAPP_TWILIO: TwilioWhatsAppGateway(session, twilio_base_url, timeout=timeout),
        Provider.WHATSAPP_META: MetaWhatsAppGateway(session, graph_base_url, graph_version, timeout=timeout),
        Provider.INSTAGRAM_META: MetaInstagramGateway(session, graph_base_url, graph_version, timeout=timeout),
    })
