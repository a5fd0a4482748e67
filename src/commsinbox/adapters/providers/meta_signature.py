"""Meta webhook authenticity, shared by WhatsApp Cloud API and Instagram Messaging.

* `X-Hub-Signature-256: sha256=<hex>` is an HMAC-SHA256 keyed with the **App Secret** over the exact raw request
  body. Check it before parsing JSON and never over a re-serialised payload: Meta signs its own rendering.
* The subscription handshake is a GET with `hub.mode=subscribe`, `hub.verify_token` and `hub.challenge`; echo the
  challenge (as a plain-text 200) only when the token matches the one configured in the app dashboard.

Pure functions: no I/O, no clock.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

__all__ = ["SIGNATURE_HEADER", "sign", "is_valid", "verify_challenge"]

SIGNATURE_HEADER = "X-Hub-Signature-256"
_SCHEME = "sha256"
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta would send for `body`: `sha256=<lowercase hex>`."""
    if not app_secret:
        raise ValueError("the Meta app secret is empty")
    digest = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"{_SCHEME}={digest}"


def is_valid(header: str | None, body: bytes, app_secret: str) -> bool:
    """Whether `header` (the `X-Hub-Signature-256` value) signs exactly these raw body bytes.

    A missing, empty or malformed header is invalid, and so is everything when no app secret is configured
    (fail closed). The hex digest may be in either case; the comparison is constant-time.
    """
    if not header or not app_secret:
        return False
    scheme, separator, digest = header.strip().partition("=")
    if not separator or scheme.lower() != _SCHEME or not _HEX_DIGEST.fullmatch(digest):
        return False
    expected = sign(body, app_secret).partition("=")[2]
    return hmac.compare_digest(expected, digest.lower())


def verify_challenge(query: Mapping[str, str], verify_token: str) -> str | None:
    """The `hub.challenge` to echo back for a genuine subscription request, or None to refuse it (403).

    Refuses when no verify token is configured, when `hub.mode` is not `subscribe`, when the challenge is missing,
    or when `hub.verify_token` differs from `verify_token` (compared in constant time).
    """
    if not verify_token:
        return None
    mode = query.get("hub.mode")
    token = query.get("hub.verify_token")
    challenge = query.get("hub.challenge")
    if mode != "subscribe" or not isinstance(token, str) or not isinstance(challenge, str) or not challenge:
        return None
    if not hmac.compare_digest(token.encode("utf-8"), verify_token.encode("utf-8")):
        return None
    return challenge
