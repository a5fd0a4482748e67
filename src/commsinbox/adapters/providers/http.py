"""HTTP plumbing shared by the provider gateways: one `aiohttp.ClientSession` (owned by the caller), provider
errors mapped to the port's `ProviderError` family, and bounded downloads.

* Network failures, timeouts, HTTP 408/429/5xx → `ProviderError(transient=True)`.
* HTTP 401/403 on a request that carried credentials → `CredentialsRejected`; without credentials (a pre-signed CDN
  URL) they mean the URL expired or is not ours → permanent `ProviderError`.
* Each provider may classify its own error body first (Meta `error.code`, Twilio `code`), see `ErrorReader`.
* Downloads check `Content-Length` first, then count while streaming, and raise `MediaTooLarge` without ever
  reading more than `max_bytes + 1` bytes.

Messages name the provider, the HTTP status and the provider's code; never a token, never a query string (media URLs
carry signatures).
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import enum
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import aiohttp
import attrs
from yarl import URL

from ...domain.model.channels import Provider
from ...ports.providers import CredentialsRejected, MediaTooLarge, ProviderError

__all__ = ["DEFAULT_TIMEOUT", "ErrorInfo", "ErrorKind", "ErrorReader", "Download", "ProviderHttp",
           "ProviderHttpError", "check_sha256", "read_graph_error", "safe_url"]

DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=120, sock_connect=10, sock_read=30)  # sock_read bounds stalls
MAX_JSON_BYTES = 4 * 1024 * 1024  # API answers are small; a bigger one is a broken or hostile peer
_MAX_ERROR_BYTES = 64 * 1024
_CHUNK = 64 * 1024
_TRANSIENT_STATUSES = frozenset({408, 425, 429})
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


class ErrorKind(enum.Enum):
    CREDENTIALS = "credentials"
    TRANSIENT = "transient"
    PERMANENT = "permanent"


@attrs.frozen
class ErrorInfo:
    """What a provider's error body says. `kind` None: classify by the HTTP status."""

    code: str | None = None
    message: str | None = None
    kind: ErrorKind | None = None


ErrorReader = Callable[[int, Any], ErrorInfo]
"""(HTTP status, parsed JSON error body or None) → what the provider says about it."""


class ProviderHttpError(ProviderError):
    """A provider answered with an HTTP error (other than a credentials rejection)."""

    def __init__(self, message: str, *, transient: bool, status: int, code: str | None = None) -> None:
        super().__init__(message, transient=transient, code=code)
        self.status = status


@attrs.frozen
class Download:
    data: bytes = attrs.field(repr=lambda data: f"<{len(data)} bytes>")
    content_type: str | None  # the response's Content-Type, None when absent
    url: str  # the final URL (after redirects), without its query


def safe_url(url: str | URL) -> str:
    """The URL without userinfo, query or fragment: what may appear in a message or a log."""
    try:
        parsed = URL(str(url))
        return str(parsed.with_user(None).with_query(None).with_fragment(None))
    except (ValueError, TypeError):
        return "<unparseable URL>"


def check_sha256(provider: Provider, data: bytes, expected: str | None) -> None:
    """Raises a permanent ProviderError when `expected` (hex, as Graph's media endpoint gives it, or base64, as
    WhatsApp webhooks give it) is a SHA-256 that differs from `data`'s. A value in neither form cannot be checked
    and is ignored."""
    if not expected or not expected.strip():
        return
    value = expected.strip()
    digest = hashlib.sha256(data).digest()
    if _HEX_SHA256.fullmatch(value):
        matches = digest.hex() == value.lower()
    else:
        decoded = _b64_32(value)
        if decoded is None:
            return
        matches = decoded == digest
    if not matches:
        raise ProviderError(f"{provider}: media checksum mismatch: the downloaded {len(data)} bytes do not have the "
                            "SHA-256 the provider announced", transient=False)


def _b64_32(value: str) -> bytes | None:
    """32 bytes from standard or URL-safe base64 (padding optional), else None."""
    padded = value.replace("-", "+").replace("_", "/") + "=" * (-len(value) % 4)
    try:
        raw = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


class ProviderHttp:
    """Requests to one provider through a shared session, errors mapped to the port's errors."""

    def __init__(self, session: aiohttp.ClientSession, provider: Provider, read_error: ErrorReader, *,
                 timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT) -> None:
        self._session = session
        self.provider = provider
        self._read_error = read_error
        self._timeout = timeout

    async def get_json(self, url: str, *, headers: Mapping[str, str] | None = None,
                       params: Mapping[str, str] | None = None,
                       secrets: Iterable[str] = ()) -> Any:
        """GET a JSON document (2xx) or raise the mapped error."""
        secrets = tuple(secrets)
        credentialed = _has_authorization(headers)
        try:
            async with self._session.get(url, headers=headers, params=params, timeout=self._timeout,
                                         raise_for_status=False) as response:
                if response.status >= 300:
                    raise await self._error(response, url, credentialed, secrets)
                raw = await self._read_bounded(response, MAX_JSON_BYTES)
                if raw is None:
                    raise ProviderError(f"{self.provider}: GET {safe_url(url)}: answer larger than {MAX_JSON_BYTES} "
                                        "bytes", transient=False)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise self._network_error("GET", url, exc) from exc
        try:
            return json.loads(raw)
        except ValueError:
            raise ProviderError(f"{self.provider}: GET {safe_url(url)}: HTTP {response.status} answer is not JSON",
                                transient=False) from None

    async def download(self, url: str, max_bytes: int, *, headers: Mapping[str, str] | None = None,
                       secrets: Iterable[str] = (),
                       announced_size: int | None = None) -> Download:
        """GET a body of at most `max_bytes`, following redirects (aiohttp drops credentials on a redirect to
        another origin). `announced_size` (e.g. Graph's `file_size`) is checked before any request."""
        if max_bytes < 0:
            raise ValueError("max_bytes must be >= 0")
        if announced_size is not None and announced_size > max_bytes:
            raise MediaTooLarge(announced_size, max_bytes)
        secrets = tuple(secrets)
        credentialed = _has_authorization(headers)
        try:
            async with self._session.get(url, headers=headers, timeout=self._timeout,
                                         allow_redirects=True, raise_for_status=False) as response:
                same_origin = response.url.origin() == URL(url).origin()
                if response.status >= 300:
                    raise await self._error(response, url, credentialed and same_origin, secrets)
                declared = response.content_length
                if declared is not None and declared > max_bytes:
                    response.close()  # never read the body
                    raise MediaTooLarge(declared, max_bytes)
                data = await self._read_bounded(response, max_bytes)
                if data is None:
                    response.close()
                    raise MediaTooLarge(None, max_bytes)
                content_type = response.headers.get(aiohttp.hdrs.CONTENT_TYPE)
                return Download(data=data, content_type=content_type or None, url=safe_url(response.url))
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise self._network_error("GET", url, exc) from exc

    @staticmethod
    async def _read_bounded(response: aiohttp.ClientResponse, limit: int) -> bytes | None:
        """The body, or None as soon as it proves longer than `limit` (at most limit + 1 bytes are read)."""
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = await response.content.read(min(_CHUNK, limit + 1 - total))
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if total > limit:
                return None
            chunks.append(chunk)

    async def _error(self, response: aiohttp.ClientResponse, url: str, credentialed: bool,
                     secrets: tuple[str, ...]) -> ProviderError:
        status = response.status
        body: Any = None
        try:
            raw = await self._read_bounded(response, _MAX_ERROR_BYTES)
            if raw:
                body = json.loads(raw)
        except (ValueError, aiohttp.ClientError, asyncio.TimeoutError):
            body = None
        info = self._read_error(status, body)
        kind = info.kind or _kind_for_status(status, credentialed)
        if kind is ErrorKind.CREDENTIALS and not credentialed:
            kind = ErrorKind.PERMANENT  # an expired pre-signed URL, not our credentials
        detail = f"HTTP {status}" + (f", error {info.code}" if info.code else "")
        if info.message:
            detail += f": {_scrub(str(info.message), secrets)[:200]}"
        message = f"{self.provider}: GET {safe_url(url)} failed ({detail})"
        if kind is ErrorKind.CREDENTIALS:
            return CredentialsRejected(message, code=info.code)
        return ProviderHttpError(message, transient=kind is ErrorKind.TRANSIENT, status=status, code=info.code)

    def _network_error(self, method: str, url: str, exc: BaseException) -> ProviderError:
        if isinstance(exc, ProviderError):
            return exc
        if isinstance(exc, (aiohttp.InvalidURL, aiohttp.TooManyRedirects)):
            return ProviderError(f"{self.provider}: {method} {safe_url(url)}: {type(exc).__name__}", transient=False)
        reason = "timed out" if isinstance(exc, asyncio.TimeoutError) else type(exc).__name__
        return ProviderError(f"{self.provider}: {method} {safe_url(url)}: network error ({reason})", transient=True)


def _kind_for_status(status: int, credentialed: bool) -> ErrorKind:
    if status in (401, 403):
        return ErrorKind.CREDENTIALS if credentialed else ErrorKind.PERMANENT
    if status in _TRANSIENT_STATUSES or status >= 500:
        return ErrorKind.TRANSIENT
    return ErrorKind.PERMANENT


def _has_authorization(headers: Mapping[str, str] | None) -> bool:
    return bool(headers) and any(name.lower() == "authorization" for name in headers or {})


# Meta Graph errors (WhatsApp Cloud API and Instagram): `{"error": {"message", "type", "code", "error_subcode"}}`.
# Logic keys on `code` only (providers.md §2.6/§2.7; Meta says not to rely on HTTP statuses or subcodes).
GRAPH_CREDENTIAL_CODES = frozenset({0, 190})
GRAPH_TRANSIENT_CODES = frozenset({
    2, 4, 80007, 130429, 131000, 131016,  # overload, app / WABA / number throughput, unknown, unavailable
    131056, 131057,  # pair rate limit, maintenance during a throughput upgrade (providers.md §5)
    17, 32, 613, 80002, 80006,  # Instagram / Messenger business-use-case throttling (providers.md §3.2)
})


def read_graph_error(status: int, body: Any) -> ErrorInfo:
    """A Graph error body: 190/0 → credentials, throttling and outages → transient, any other code → permanent.
    Without a parsable body, the HTTP status decides."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ErrorInfo()
    raw_code = error.get("code")
    message = error.get("message") if isinstance(error.get("message"), str) else None
    if isinstance(raw_code, bool) or not isinstance(raw_code, (int, str)) or not str(raw_code).isdigit():
        return ErrorInfo(message=message)
    code = int(raw_code)
    subcode = error.get("error_subcode")
    if isinstance(subcode, int) and not isinstance(subcode, bool):
        message = f"{message or 'error'} (subcode {subcode})"
    if code in GRAPH_CREDENTIAL_CODES:
        kind = ErrorKind.CREDENTIALS
    elif code in GRAPH_TRANSIENT_CODES:
        kind = ErrorKind.TRANSIENT
    else:
        kind = ErrorKind.PERMANENT
    return ErrorInfo(code=str(code), message=message, kind=kind)
