"""Send provider webhooks to the app exactly as the providers do: real bodies, real signatures."""
from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from commsinbox.adapters.providers import meta_signature
from commsinbox.adapters.providers.twilio_whatsapp import signature as twilio_signature
from commsinbox.adapters.providers.twilio_whatsapp.webhook import parse_form

PUBLIC_BASE_URL = "https://inbox.example.com"
META_APP_SECRET = "0123456789abcdef0123456789abcdef"
META_VERIFY_TOKEN = "verify-me-please"
TWILIO_TOKEN = "fedcba9876543210fedcba9876543210"
TWILIO_PATH = "/webhooks/twilio/whatsapp"
META_PATHS = {"whatsapp_cloud": "/webhooks/meta/whatsapp", "instagram": "/webhooks/meta/instagram"}


def twilio_body(path: Path) -> bytes:
    """The fixture as a form body (the Twilio doc example is a `"Name": "value"` listing)."""
    raw = path.read_bytes()
    if not path.name.startswith("doc_"):
        return raw
    listing = [line.split(":", 1) for line in raw.decode().splitlines() if line.strip()]
    return urllib.parse.urlencode([(n.strip().strip('"'), v.strip().strip('",')) for n, v in listing]).encode()


async def post_twilio(client: TestClient, body: bytes, token: str = TWILIO_TOKEN, *, signature: str | None = None,
                      ) -> Any:
    params = parse_form(body)
    signed = twilio_signature.compute_signature(PUBLIC_BASE_URL + TWILIO_PATH, params, token)
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Twilio-Signature": signed if signature is None else signature}
    return await client.post(TWILIO_PATH, data=body, headers=headers)


async def post_meta(client: TestClient, path: str, body: bytes | dict[str, Any], secret: str = META_APP_SECRET,
                    *, signature: str | None = None) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json",
               meta_signature.SIGNATURE_HEADER: meta_signature.sign(raw, secret) if signature is None else signature}
    return await client.post(path, data=raw, headers=headers)
