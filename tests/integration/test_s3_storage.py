"""One contract for every `BlobStorage` adapter: the local filesystem and S3 over real HTTP.

The S3 side talks to moto's `ThreadedMotoServer`, a real S3-protocol server on a free
local port, started once for the session. Each S3 test gets its own bucket.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest
from aiobotocore.session import AioSession
from moto.server import ThreadedMotoServer

from commsinbox.adapters.storage.local import LocalBlobStorage
from commsinbox.adapters.storage.s3 import BlobChecksumMismatch, S3BlobStorage, is_transient
from commsinbox.domain.model.errors import NotFound
from commsinbox.ports.storage import BlobStorage

pytestmark = pytest.mark.integration

ACCESS_KEY_ID = "test-access-key"
SECRET_ACCESS_KEY = "s3cr3t-Value-that-must-never-leak"
LOGGER = "commsinbox.adapters.storage.s3"


def _single_server_header(app: Any) -> Any:
    """Drop moto's own `Server` header: werkzeug sends one too, and aiohttp's strict parser
    (Python dev mode, PYTHONASYNCIODEBUG=1) rejects a response with two."""

    def wsgi(environ: Any, start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            kept = [(name, value) for name, value in headers if name.lower() != "server"]
            return start_response(status, kept, *exc_info)

        return app(environ, start)

    return wsgi


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    server._server.app = _single_server_header(server._server.app)  # type: ignore[union-attr]
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


SESSION = AioSession()  # one botocore session: its JSON models load once, not per test


def s3_storage(endpoint: str, **options: object) -> S3BlobStorage:
    return S3BlobStorage(
        session=SESSION,
        endpoint_url=endpoint,
        bucket=options.pop("bucket", f"vault-{uuid.uuid4().hex[:12]}"),  # type: ignore[arg-type]
        region=options.pop("region", "us-east-1"),  # type: ignore[arg-type]
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
async def s3(s3_endpoint: str) -> AsyncIterator[S3BlobStorage]:
    async with s3_storage(s3_endpoint) as storage:
        await storage.ensure_bucket()
        yield storage


@pytest.fixture(params=["local", "s3"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStorage]:
    if request.param == "local":
        yield LocalBlobStorage(tmp_path / "vault")
        return
    # getfixturevalue("s3") cannot set up an async fixture from inside another one.
    async with s3_storage(request.getfixturevalue("s3_endpoint")) as s3_blobs:
        await s3_blobs.ensure_bucket()
        yield s3_blobs


# --------------------------------------------------------------------------- the contract

BINARY = bytes(range(256)) * 16 + b"\x00\xff\r\n"
KEY = "team-1/threads/thread-9/photo.jpg"


async def test_round_trip_keeps_binary_data(storage: BlobStorage) -> None:
    await storage.put(KEY, BINARY, "image/jpeg")
    assert await storage.get(KEY) == BINARY


async def test_empty_object(storage: BlobStorage) -> None:
    await storage.put("team-1/empty.bin", b"", "application/octet-stream")
    assert await storage.get("team-1/empty.bin") == b""


async def test_put_overwrites(storage: BlobStorage) -> None:
    await storage.put(KEY, b"first version", "text/plain")
    await storage.put(KEY, b"second", "text/plain")
    assert await storage.get(KEY) == b"second"


async def test_missing_key_is_not_found(storage: BlobStorage) -> None:
    with pytest.raises(NotFound):
        await storage.get("team-1/threads/nope/missing.txt")


async def test_delete_is_idempotent(storage: BlobStorage) -> None:
    await storage.delete("team-1/never-existed.txt")
    await storage.put(KEY, b"bye", "text/plain")
    await storage.delete(KEY)
    with pytest.raises(NotFound):
        await storage.get(KEY)
    await storage.delete(KEY)


async def test_keys_with_slashes_are_independent(storage: BlobStorage) -> None:
    keys = [
        "team-a/threads/t1/a.txt",
        "team-a/threads/t1/b.txt",
        "team-a/threads/t2/a.txt",
        "team-b/threads/t1/a.txt",
        "team-a/threads/t1/voice note é.ogg",
    ]
    for key in keys:
        await storage.put(key, key.encode(), "text/plain")
    await storage.delete("team-a/threads/t1/b.txt")
    for key in keys:
        if key.endswith("b.txt"):
            with pytest.raises(NotFound):
                await storage.get(key)
        else:
            assert await storage.get(key) == key.encode()


async def test_five_megabyte_object(storage: BlobStorage) -> None:
    data = os.urandom(5 * 1024 * 1024)
    await storage.put("team-1/threads/t/video.mp4", data, "video/mp4")
    assert await storage.get("team-1/threads/t/video.mp4") == data


async def test_concurrent_puts(storage: BlobStorage) -> None:
    items = {f"team-1/threads/t/{n:02d}.bin": os.urandom(1024 + n) for n in range(20)}
    await asyncio.gather(*(storage.put(k, v, "application/octet-stream") for k, v in items.items()))
    read = await asyncio.gather(*(storage.get(k) for k in items))
    assert read == list(items.values())


async def test_key_escaping_upwards_is_refused(storage: BlobStorage) -> None:
    with pytest.raises(ValueError):
        await storage.put("../outside.txt", b"x", "text/plain")


# --------------------------------------------------------------------------- S3 only


async def test_content_type_and_checksum_are_stored(s3: S3BlobStorage) -> None:
    await s3.put(KEY, BINARY, "image/jpeg")
    head = await s3.client.head_object(Bucket=s3.bucket, Key=KEY)
    assert head["ContentType"] == "image/jpeg"
    assert head["ContentLength"] == len(BINARY)
    assert head["Metadata"]["sha256"] == hashlib.sha256(BINARY).hexdigest()


async def test_a_corrupted_object_is_detected(s3: S3BlobStorage) -> None:
    await s3.client.put_object(
        Bucket=s3.bucket, Key=KEY, Body=b"tampered", Metadata={"sha256": "0" * 64}
    )
    with pytest.raises(BlobChecksumMismatch):
        await s3.get(KEY)


async def test_object_without_checksum_is_still_readable(s3: S3BlobStorage) -> None:
    await s3.client.put_object(Bucket=s3.bucket, Key=KEY, Body=b"uploaded elsewhere")
    assert await s3.get(KEY) == b"uploaded elsewhere"


async def test_ensure_bucket_is_idempotent_outside_us_east_1(s3_endpoint: str) -> None:
    async with s3_storage(s3_endpoint, region="eu-west-1") as storage:
        await storage.ensure_bucket()
        await storage.ensure_bucket()
        await storage.put("k", b"v", "text/plain")
        assert await storage.get("k") == b"v"
        location = await storage.client.get_bucket_location(Bucket=storage.bucket)
        assert location["LocationConstraint"] == "eu-west-1"


async def test_a_missing_bucket_is_not_a_missing_key(s3_endpoint: str) -> None:
    async with s3_storage(s3_endpoint) as storage:  # bucket never created
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            await storage.get("k")
    assert caught.value.response["Error"]["Code"] == "NoSuchBucket"


async def test_secrets_stay_out_of_repr(s3: S3BlobStorage) -> None:
    shown = repr(s3)
    assert SECRET_ACCESS_KEY not in shown and ACCESS_KEY_ID not in shown
    assert s3.bucket in shown


async def test_using_it_before_open_is_an_error(s3_endpoint: str) -> None:
    storage = s3_storage(s3_endpoint)
    with pytest.raises(RuntimeError, match="not open"):
        await storage.get("k")
    await storage.close()  # closing an unopened storage is harmless


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_transient_failures_are_retried_a_bounded_number_of_times(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dead = f"http://127.0.0.1:{_free_port()}"
    storage = s3_storage(dead, max_attempts=3, backoff_seconds=0.01, max_backoff_seconds=0.02)
    caplog.set_level(logging.WARNING, logger=LOGGER)
    async with storage:
        with pytest.raises(botocore.exceptions.EndpointConnectionError) as caught:
            await storage.put(KEY, b"x", "text/plain")
    retries = [r for r in caplog.records if r.name == LOGGER]
    assert len(retries) == 2  # three attempts, two waits
    assert all("EndpointConnectionError" in r.getMessage() for r in retries)
    for text in [str(caught.value), *(r.getMessage() for r in retries)]:
        assert SECRET_ACCESS_KEY not in text


async def test_permanent_failures_are_not_retried(
    s3: S3BlobStorage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with pytest.raises(NotFound):
        await s3.get("team-1/missing")
    assert [r for r in caplog.records if r.name == LOGGER] == []


def _client_error(code: str, status: int) -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "PutObject",
    )


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (_client_error("SlowDown", 503), True),
        (_client_error("InternalError", 500), True),
        (_client_error("Whatever", 502), True),
        (_client_error("RequestTimeout", 400), True),
        (_client_error("AccessDenied", 403), False),
        (_client_error("NoSuchKey", 404), False),
        (_client_error("SignatureDoesNotMatch", 403), False),
        (botocore.exceptions.EndpointConnectionError(endpoint_url="http://x"), True),
        (botocore.exceptions.ReadTimeoutError(endpoint_url="http://x"), True),
        (botocore.exceptions.ConnectionClosedError(endpoint_url="http://x"), True),
        (botocore.exceptions.ResponseStreamingError(error="cut"), True),
        (botocore.exceptions.SSLError(endpoint_url="http://x", error="bad cert"), False),
        (botocore.exceptions.HTTPClientError(error="malformed response"), False),
        (botocore.exceptions.NoCredentialsError(), False),
        (ValueError("bad key"), False),
    ],
)
def test_which_failures_count_as_transient(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient
