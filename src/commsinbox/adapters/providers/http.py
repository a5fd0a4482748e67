"""HTTP plumbing shared by the provider gateways: one `aiohttp.ClientSession` (owned by the caller), provider
errors mapped to the port's `ProviderError` family, and bounded downloads.

* Network failures, timeouts, HTTP 408/429/5xx → `ProviderError(transient=True)`, except on a request that is not
  idempotent (a send): a failure after the request may have been written (read timeout, reset, disconnect, an
  unreadable 2xx answer) is `ambiguous` — maybe delivered, never retried automatically. A connection that was never
  made (refused, DNS, connect timeout) sent nothing and stays transient.
* HTTP 401/403 on a request that carried credentials → `CredentialsRejected`; without credentials (a pre-signed CDN
  URL) they mean the URL expired or is not ours → permanent `ProviderError`.
* Each provider may classify its own error body first (Meta `error.code`, Twilio `code`), see `ErrorReader`; it
  also names the domain `reason` (`FailureReason`). Without one, the status does: 429 → rate_limited, 5xx →
  unavailable.
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
from ...ports.providers import CredentialsRejected, FailureReason, MediaTooLarge, ProviderError

__all__ = ["DEFAULT_TIMEOUT", "ErrorInfo", "ErrorKind", "ErrorReader", "Download", "ProviderHttp",
           "ProviderHttpError", "check_sha256", "safe_url"]

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
    reason: str | None = None  # a FailureReason; None: the HTTP status decides


ErrorReader = Callable[[int, Any], ErrorInfo]
"""(HTTP status, parsed JSON error body or None) → what the provider says about it."""


class ProviderHttpError(ProviderError):
    """A provider answered with an HTTP error (other than a credentials rejection)."""

    def __init__(self, message: str, *, transient: bool, status: int, code: str | None = None,
                 reason: str | None = None) -> None:
        super().__init__(message, transient=transient, code=code, reason=reason)
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
                    raise await self._error("GET", response, url, credentialed, secrets)
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

    async def post(self, url: str, *, headers: Mapping[str, str], json_body: Any = None,
                   form: Iterable[tuple[str, str]] | None = None, multipart: aiohttp.FormData | None = None,
                   secrets: Iterable[str] = (), idempotent: bool = False) -> Any:
        """POST a JSON body, a form or a multipart body and return the JSON answer (2xx) or raise the mapped error.
        Unless `idempotent`, a failure once the request may have been written is `ambiguous` (see the module)."""
        secrets = tuple(secrets)
        data: Any = multipart if multipart is not None else (list(form) if form is not None else None)
        ambiguous = not idempotent
        try:
            async with self._session.post(url, headers=headers, json=json_body, data=data, timeout=self._timeout,
                                          allow_redirects=False, raise_for_status=False) as response:
                if response.status >= 300:
                    raise await self._error("POST", response, url, _has_authorization(headers), secrets)
                raw = await self._read_bounded(response, MAX_JSON_BYTES)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise self._network_error("POST", url, exc, ambiguous=ambiguous and _may_have_arrived(exc)) from exc
        try:
            if raw is None:
                raise ValueError("too large")
            return json.loads(raw)
        except ValueError:
            raise ProviderError(f"{self.provider}: POST {safe_url(url)}: HTTP {response.status} answer is not "
                                "readable JSON" + (_MAYBE_DELIVERED if ambiguous else ""), transient=False,
                                ambiguous=ambiguous) from None

    def unreadable(self, url: str, what: str, *, ambiguous: bool = True) -> ProviderError:
        """A 2xx answer without what it must carry (e.g. the message id): the request was accepted, so a send is
        ambiguous."""
        return ProviderError(f"{self.provider}: POST {safe_url(url)}: the answer has no {what}"
                             + (_MAYBE_DELIVERED if ambiguous else ""), transient=False, ambiguous=ambiguous)

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
                    raise await self._error("GET", response, url, credentialed and same_origin, secrets)
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

    async def _error(self, method: str, response: aiohttp.ClientResponse, url: str, credentialed: bool,
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
        message = f"{self.provider}: {method} {safe_url(url)} failed ({detail})"
        if kind is ErrorKind.CREDENTIALS:
            return CredentialsRejected(message, code=info.code)
        return ProviderHttpError(message, transient=kind is ErrorKind.TRANSIENT, status=status, code=info.code,
                                 reason=info.reason or _reason_for_status(status))

    def _network_error(self, method: str, url: str, exc: BaseException, *, ambiguous: bool = False) -> ProviderError:
        if isinstance(exc, ProviderError):
            return exc
        if isinstance(exc, (aiohttp.InvalidURL, aiohttp.TooManyRedirects)):
            return ProviderError(f"{self.provider}: {method} {safe_url(url)}: {type(exc).__name__}", transient=False,
                                 reason=FailureReason.INVALID_REQUEST)
        what = "timed out" if isinstance(exc, asyncio.TimeoutError) else type(exc).__name__
        if ambiguous:
            return ProviderError(f"{self.provider}: {method} {safe_url(url)}: network error ({what}) after the "
                                 f"request was sent{_MAYBE_DELIVERED}", transient=False,
                                 reason=FailureReason.UNAVAILABLE, ambiguous=True)
        return ProviderError(f"{self.provider}: {method} {safe_url(url)}: network error ({what})", transient=True,
                             reason=FailureReason.UNAVAILABLE)


_MAYBE_DELIVERED = "; the provider may have accepted it, so it is not retried automatically"
# Failures that happen before a request can have been written: nothing reached the provider.
_NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError, aiohttp.InvalidURL)


def _may_have_arrived(exc: BaseException) -> bool:
    """False only when the connection was never made (refused, DNS, TLS handshake, connect timeout). A read
    timeout, a reset or a disconnect after connecting, and a total timeout (its phase is unknown) may have
    delivered the request."""
    return not isinstance(exc, _NOT_SENT)


def _reason_for_status(status: int) -> FailureReason | None:
    if status == 429:
        return FailureReason.RATE_LIMITED
    if status in _TRANSIENT_STATUSES or status >= 500:
        return FailureReason.UNAVAILABLE
    return None


def _kind_for_status(status: int, credentialed: bool) -> ErrorKind:
    if status in (401, 403):
        return ErrorKind.CREDENTIALS if credentialed else ErrorKind.PERMANENT
    if status in _TRANSIENT_STATUSES or status >= 500:
        return ErrorKind.TRANSIENT
    return ErrorKind.PERMANENT


def _has_authorization(headers: Mapping[str, str] | None) -> bool:
    return bool(headers) and any(name.lower() == "authorization" for name in headers or {})
