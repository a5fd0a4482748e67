"""Blob storage on any S3-compatible service: AWS S3, Supabase Storage, MinIO, Cloudflare R2.

The client lives between :meth:`S3BlobStorage.open` and :meth:`S3BlobStorage.close`
(or ``async with``), so the server creates it once in an aiohttp cleanup context::

    async def storage_context(app):
        async with S3BlobStorage(endpoint_url=..., bucket=..., region=...,
                                 access_key_id=..., secret_access_key=secret.reveal()) as storage:
            app[STORAGE] = storage
            yield

Choices that keep S3-compatible services working:

* path-style addressing (``http://host/bucket/key``), which MinIO and Supabase require;
* checksums only "when required": recent botocore otherwise sends CRC trailers with
  ``aws-chunked`` bodies on every upload, which several S3-compatible services reject.
  Integrity is covered by our own sha256, kept in the object's user metadata and
  checked on every read.

Retries are ours (tenacity, bounded, exponential backoff with full jitter) and only for
transient failures: connection errors, timeouts, throttling and 5xx. botocore's own
retries are switched off so the two never multiply.

The secret access key never shows in ``repr`` and never appears in an error we raise.
"""
from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import attrs
import botocore.exceptions
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from ...domain.model.errors import NotFound

__all__ = ["BlobChecksumMismatch", "S3BlobStorage", "is_transient"]

_log = logging.getLogger(__name__)
_T = TypeVar("_T")

SHA256_METADATA = "sha256"  # sent as the x-amz-meta-sha256 header

_MISSING_KEY_CODES = frozenset({"NoSuchKey", "NotFound", "404"})
_MISSING_BUCKET_CODES = frozenset({"NoSuchBucket", "NotFound", "404"})
_BUCKET_EXISTS_CODES = frozenset({"BucketAlreadyOwnedByYou", "BucketAlreadyExists"})
_TRANSIENT_CODES = frozenset({
    "InternalError",
    "RequestTimeout",
    "RequestTimeoutException",
    "ServiceUnavailable",
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "PriorRequestNotComplete",
})
_TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BlobChecksumMismatch(Exception):
    """The bytes read back do not match the sha256 stored with them."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"stored object {key!r} does not match its sha256 checksum")


def is_transient(error: BaseException) -> bool:
    """True for failures worth retrying: the same request may well succeed a moment later."""
    if isinstance(error, botocore.exceptions.SSLError):
        return False  # a certificate problem does not fix itself
    if isinstance(
        error,
        (
            botocore.exceptions.ConnectionError,  # endpoint unreachable, connect timeout
            botocore.exceptions.ConnectionClosedError,
            botocore.exceptions.ReadTimeoutError,
            botocore.exceptions.ResponseStreamingError,  # the body was cut off
            botocore.exceptions.IncompleteReadError,
        ),
    ):
        return True
    # A bare HTTPClientError wraps anything else the HTTP client raised (a malformed
    # response, a bug): retrying would only repeat it.
    if isinstance(error, botocore.exceptions.ClientError):
        return _error_code(error) in _TRANSIENT_CODES or _status(error) in _TRANSIENT_STATUSES
    return False


def _error_code(error: botocore.exceptions.ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _status(error: botocore.exceptions.ClientError) -> int | None:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status if isinstance(status, int) else None


def _check_key(key: str) -> str:
    """Refuse keys that are not plain `a/b/c` paths (mirrors the local adapter's refusal)."""
    if not key or len(key.encode("utf-8")) > 1024:
        raise ValueError("storage key must be 1 to 1024 bytes")
    if _CONTROL.search(key):
        raise ValueError("storage key contains a control character")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError("storage key has an empty, '.' or '..' segment")
    return key


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    detail = (
        _error_code(error) if isinstance(error, botocore.exceptions.ClientError) else ""
    ) or type(error).__name__
    _log.warning(
        "S3 call failed (%s), attempt %d; retrying in %.2f s",
        detail,
        state.attempt_number,
        state.next_action.sleep if state.next_action else 0.0,
    )


@attrs.define(eq=False)
class S3BlobStorage:
    """The `BlobStorage` port on an S3 bucket. Open it before use; close it at shutdown."""

    endpoint_url: str | None
    bucket: str
    region: str = "us-east-1"
    access_key_id: str = attrs.field(default="", repr=False)
    secret_access_key: str = attrs.field(default="", repr=False)
    max_attempts: int = attrs.field(default=4, validator=attrs.validators.ge(1))
    backoff_seconds: float = 0.2  # scale of the exponential, jittered wait
    max_backoff_seconds: float = 5.0
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 60.0
    max_pool_connections: int = 20
    session: AioSession | None = attrs.field(default=None, repr=False)  # share to reuse loaded models
    _client: Any = attrs.field(default=None, init=False, repr=False)
    _client_context: Any = attrs.field(default=None, init=False, repr=False)

    # ------------------------------------------------------------------ lifecycle

    async def open(self) -> S3BlobStorage:
        if self._client is not None:
            return self
        config = AioConfig(
            region_name=self.region,
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"total_max_attempts": 1, "mode": "standard"},  # tenacity retries
            connect_timeout=self.connect_timeout_seconds,
            read_timeout=self.read_timeout_seconds,
            max_pool_connections=self.max_pool_connections,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            warm_up_loader_caches=True,  # load botocore's JSON models off the event loop
        )
        context = (self.session or AioSession()).create_client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key_id or None,
            aws_secret_access_key=self.secret_access_key or None,
            config=config,
        )
        self._client = await context.__aenter__()
        self._client_context = context
        return self

    async def close(self) -> None:
        context, self._client, self._client_context = self._client_context, None, None
        if context is not None:
            await context.__aexit__(None, None, None)

    async def __aenter__(self) -> S3BlobStorage:
        return await self.open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def client(self) -> Any:
        """The open aiobotocore S3 client (for tests and administration)."""
        if self._client is None:
            raise RuntimeError("S3BlobStorage is not open; call open() or use 'async with'")
        return self._client

    # ------------------------------------------------------------------ the port

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        _check_key(key)
        checksum = hashlib.sha256(data).hexdigest()

        async def call() -> None:
            await self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                Metadata={SHA256_METADATA: checksum},
            )

        await self._retry(call)

    async def get(self, key: str) -> bytes:
        _check_key(key)

        async def call() -> tuple[bytes, str | None]:
            try:
                response = await self.client.get_object(Bucket=self.bucket, Key=key)
            except botocore.exceptions.ClientError as error:
                if _error_code(error) in _MISSING_KEY_CODES:
                    raise NotFound("file", key) from None
                raise
            async with response["Body"] as body:
                data = await body.read()  # inside the retry: a cut-off body is retried too
            return data, response.get("Metadata", {}).get(SHA256_METADATA)

        data, expected = await self._retry(call)
        if expected is not None and hashlib.sha256(data).hexdigest() != expected.lower():
            raise BlobChecksumMismatch(key)
        return data

    async def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error."""
        _check_key(key)

        async def call() -> None:
            try:
                await self.client.delete_object(Bucket=self.bucket, Key=key)
            except botocore.exceptions.ClientError as error:
                if _error_code(error) not in _MISSING_KEY_CODES:
                    raise

        await self._retry(call)

    # ------------------------------------------------------------------ administration

    async def ensure_bucket(self) -> None:
        """Create the bucket when it does not exist (embedded demo, tests). Safe to race."""

        async def exists() -> bool:
            try:
                await self.client.head_bucket(Bucket=self.bucket)
            except botocore.exceptions.ClientError as error:
                if _error_code(error) in _MISSING_BUCKET_CODES or _status(error) == 404:
                    return False
                raise
            return True

        async def create() -> None:
            arguments: dict[str, Any] = {"Bucket": self.bucket}
            if self.region != "us-east-1":
                arguments["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
            try:
                await self.client.create_bucket(**arguments)
            except botocore.exceptions.ClientError as error:
                if _error_code(error) not in _BUCKET_EXISTS_CODES:
                    raise

        if not await self._retry(exists):
            await self._retry(create)

    # ------------------------------------------------------------------ internals

    async def _retry(self, call: Callable[[], Awaitable[_T]]) -> _T:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_random_exponential(
                multiplier=self.backoff_seconds, max=self.max_backoff_seconds
            ),
            retry=retry_if_exception(is_transient),
            before_sleep=_log_retry,
            reraise=True,
        )
        return await retrying(call)
