"""One webhook parser per provider, over the raw bytes stored before the webhook was acknowledged."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ...domain.model.channels import Provider
from ...domain.model.inbound import InboundEvent
from .meta_instagram import webhook as instagram
from .meta_whatsapp import webhook as whatsapp
from .twilio_whatsapp import webhook as twilio


def _json(parse: Callable[[Mapping[str, Any]], list[InboundEvent]]
          ) -> Callable[[bytes, str, dt.datetime], list[InboundEvent]]:
    def parse_body(body: bytes, content_type: str, received_at: dt.datetime) -> list[InboundEvent]:
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"webhook body is not JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise ValueError("webhook body is not a JSON object")
        return parse(payload)

    return parse_body


def _twilio(body: bytes, content_type: str, received_at: dt.datetime) -> list[InboundEvent]:
    return twilio.parse(twilio.parse_form(body), received_at)


@attrs.frozen
class _Parser:
    parse: Callable[[bytes, str, dt.datetime], list[InboundEvent]]


@attrs.frozen
class ProviderWebhookParsers:
    parsers: Mapping[Provider, _Parser] = attrs.field(factory=lambda: {
        Provider.WHATSAPP_TWILIO: _Parser(_twilio),
        Provider.WHATSAPP_META: _Parser(_json(whatsapp.parse)),
        Provider.INSTAGRAM_META: _Parser(_json(instagram.parse)),
    })

    def parser(self, provider: Provider) -> _Parser:
        if provider not in self.parsers:
            raise ValueError(f"no webhook parser for {provider.value}")
        return self.parsers[provider]
