"""tRPC v11 HTTP protocol (httpLink / httpBatchLink with superjson) served by aiohttp."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from commsinbox.entrypoints.web.superjson import deserialize, serialize
from commsinbox.entrypoints.web.trpc import Procedure, TrpcError, add_trpc_routes

pytestmark = pytest.mark.unit

UTC = timezone.utc
JSON = {"Content-Type": "application/json"}
Client = TestClient[web.Request, web.Application]


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []


def _procedures(recorder: Recorder) -> dict[str, Procedure]:
    async def hello(request: web.Request, data: Any) -> Any:
        return {"text": f"hello {data['name'] if data else 'world'}"}

    async def shift(request: web.Request, data: Any) -> Any:
        return {"at": data["at"] + timedelta(days=1)}

    async def add_note(request: web.Request, data: Any) -> Any:
        recorder.calls.append(("notes.add", data))
        return {"count": len(recorder.calls)}

    async def echo(request: web.Request, data: Any) -> Any:
        recorder.calls.append(("echo", data))
        return data

    async def opt_out(request: web.Request, data: Any) -> Any:
        recorder.calls.append(("contacts.optOut", data))
        raise TrpcError("FORBIDDEN", "Contact opted out", data={"reason": "opted_out"})

    async def boom(request: web.Request, data: Any) -> Any:
        raise RuntimeError("password=hunter2 leaked")

    async def missing(request: web.Request, data: Any) -> Any:
        raise LookupError("client 42")

    return {
        "greeting.hello": Procedure("query", hello),
        "time.shift": Procedure("query", shift),
        "boom": Procedure("query", boom),
        "clients.get": Procedure("query", missing),
        "notes.add": Procedure("mutation", add_note),
        "echo": Procedure("mutation", echo),
        "contacts.optOut": Procedure("mutation", opt_out),
    }


def _map_error(exc: BaseException) -> TrpcError | None:
    if isinstance(exc, LookupError):
        return TrpcError("NOT_FOUND", f"Not found: {exc}")
    return None


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def client(
    aiohttp_client: Callable[[web.Application], Awaitable[Client]], recorder: Recorder
) -> Client:
    app = web.Application()
    add_trpc_routes(app, _procedures(recorder), map_error=_map_error, max_body_bytes=256)
    return await aiohttp_client(app)


def _q(value: Any) -> str:
    return quote(json.dumps(value, separators=(",", ":")), safe="")


def _error(message: str, code: str, rpc: int, status: int, path: str | None, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"code": code, "httpStatus": status, **({"path": path} if path else {}), **extra}
    return {"error": {"json": {"message": message, "code": rpc, "data": data}}}


async def test_query_over_get(client: Client) -> None:
    response = await client.get(f"/trpc/greeting.hello?input={_q(serialize({'name': 'Ada'}))}")

    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert await response.json() == {"result": {"data": {"json": {"text": "hello Ada"}}}}


async def test_query_without_input(client: Client) -> None:
    response = await client.get("/trpc/greeting.hello")

    assert response.status == 200
    assert await response.json() == {"result": {"data": {"json": {"text": "hello world"}}}}


async def test_mutation_over_post(client: Client, recorder: Recorder) -> None:
    response = await client.post("/trpc/notes.add", data=json.dumps(serialize({"text": "hi"})), headers=JSON)

    assert response.status == 200
    assert await response.json() == {"result": {"data": {"json": {"count": 1}}}}
    assert recorder.calls == [("notes.add", {"text": "hi"})]


@pytest.mark.parametrize(
    "body", ["", json.dumps({"json": None, "meta": {"values": ["undefined"], "v": 1}})], ids=["empty", "undefined"]
)
async def test_mutation_without_input(client: Client, recorder: Recorder, body: str) -> None:
    response = await client.post("/trpc/echo", data=body, headers=JSON)

    assert response.status == 200
    assert await response.json() == {"result": {"data": {"json": None}}}
    assert recorder.calls == [("echo", None)]


async def test_date_round_trip(client: Client) -> None:
    sent = datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
    response = await client.get(f"/trpc/time.shift?input={_q(serialize({'at': sent}))}")

    body = await response.json()
    assert body["result"]["data"] == {
        "json": {"at": "2026-01-03T03:04:05.678Z"},
        "meta": {"values": {"at": ["Date"]}, "v": 1},
    }
    assert deserialize(body["result"]["data"]) == {"at": sent + timedelta(days=1)}


async def test_batch_runs_calls_in_order_and_reports_each(client: Client, recorder: Recorder) -> None:
    inputs = {str(i): serialize({"n": i}) for i in range(3)}
    response = await client.post(
        "/trpc/notes.add,contacts.optOut,notes.add?batch=1", data=json.dumps(inputs), headers=JSON
    )

    assert response.status == 207
    assert await response.json() == [
        {"result": {"data": {"json": {"count": 1}}}},
        _error("Contact opted out", "FORBIDDEN", -32003, 403, "contacts.optOut", reason="opted_out"),
        {"result": {"data": {"json": {"count": 3}}}},
    ]
    assert recorder.calls == [("notes.add", {"n": 0}), ("contacts.optOut", {"n": 1}), ("notes.add", {"n": 2})]


async def test_batch_of_queries_with_a_common_status(client: Client) -> None:
    inputs = {"1": serialize({"name": "Bo"})}
    response = await client.get(f"/trpc/greeting.hello,greeting.hello?batch=1&input={_q(inputs)}")

    assert response.status == 200
    assert await response.json() == [
        {"result": {"data": {"json": {"text": "hello world"}}}},
        {"result": {"data": {"json": {"text": "hello Bo"}}}},
    ]


async def test_batch_where_every_call_fails_alike_keeps_that_status(client: Client) -> None:
    response = await client.get("/trpc/a.b,c?batch=1&input=%7B%7D")

    assert response.status == 404
    assert [item["error"]["json"]["data"]["path"] for item in await response.json()] == ["a.b", "c"]


async def test_batch_input_must_be_an_object(client: Client) -> None:
    response = await client.get(f"/trpc/greeting.hello?batch=1&input={_q([1])}")

    assert response.status == 400
    message = '"input" needs to be an object when doing a batch call'
    assert await response.json() == [_error(message, "BAD_REQUEST", -32600, 400, "greeting.hello")]


async def test_batch_mixing_queries_and_mutations_is_refused_as_a_whole(client: Client) -> None:
    response = await client.post("/trpc/greeting.hello,notes.add?batch=1", data="{}", headers=JSON)

    assert response.status == 400
    message = "Cannot mix procedure types in call: query, mutation"
    assert await response.json() == _error(message, "BAD_REQUEST", -32600, 400, None)


async def test_unknown_procedure(client: Client) -> None:
    response = await client.get("/trpc/nope.nothing")

    assert response.status == 404
    assert await response.json() == _error(
        'No procedure found on path "nope.nothing"', "NOT_FOUND", -32004, 404, "nope.nothing"
    )


async def test_query_sent_as_post(client: Client) -> None:
    response = await client.post("/trpc/greeting.hello", data="", headers=JSON)

    assert response.status == 405
    message = 'Unsupported POST-request to query procedure at path "greeting.hello"'
    assert await response.json() == _error(message, "METHOD_NOT_SUPPORTED", -32005, 405, "greeting.hello")


async def test_mutation_sent_as_get(client: Client, recorder: Recorder) -> None:
    response = await client.get(f"/trpc/notes.add?input={_q(serialize({'text': 'x'}))}")

    assert response.status == 405
    message = 'Unsupported GET-request to mutation procedure at path "notes.add"'
    assert await response.json() == _error(message, "METHOD_NOT_SUPPORTED", -32005, 405, "notes.add")
    assert recorder.calls == []


@pytest.mark.parametrize("raw", ["{not json", "NaN", json.dumps({"json": {"at": "yesterday"}, "meta": {"values": {"at": ["Date"]}}})])
async def test_malformed_query_input(client: Client, raw: str) -> None:
    response = await client.get(f"/trpc/greeting.hello?input={quote(raw, safe='')}")

    assert response.status == 400
    error = (await response.json())["error"]["json"]
    assert (error["code"], error["data"]["code"], error["data"]["path"]) == (-32600, "BAD_REQUEST", "greeting.hello")


async def test_malformed_body(client: Client, recorder: Recorder) -> None:
    response = await client.post("/trpc/notes.add", data="{oops", headers=JSON)

    assert response.status == 400
    assert (await response.json())["error"]["json"]["data"]["code"] == "BAD_REQUEST"
    assert recorder.calls == []


async def test_oversized_body_is_refused(client: Client, recorder: Recorder) -> None:
    body = json.dumps(serialize({"text": "x" * 300}))
    response = await client.post("/trpc/notes.add", data=body, headers=JSON)

    assert response.status == 413
    assert await response.json() == _error("PAYLOAD_TOO_LARGE", "PAYLOAD_TOO_LARGE", -32013, 413, "notes.add")
    assert recorder.calls == []


async def test_oversized_chunked_body_is_refused(client: Client, recorder: Recorder) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 100

    response = await client.post("/trpc/notes.add", data=chunks(), headers=JSON)

    assert response.status == 413
    assert recorder.calls == []


async def test_post_without_json_content_type(client: Client) -> None:
    response = await client.post("/trpc/notes.add", data="{}")

    assert response.status == 415
    assert (await response.json())["error"]["json"]["data"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_unexpected_exception_is_a_generic_500(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="commsinbox.trpc"):
        response = await client.get("/trpc/boom")

    assert response.status == 500
    text = await response.text()
    assert "hunter2" not in text and "RuntimeError" not in text
    assert json.loads(text) == _error("Internal server error", "INTERNAL_SERVER_ERROR", -32603, 500, "boom")
    [record] = [r for r in caplog.records if r.name == "commsinbox.trpc"]
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)


async def test_map_error_translates_domain_errors(client: Client) -> None:
    response = await client.get("/trpc/clients.get")

    assert response.status == 404
    assert await response.json() == _error("Not found: client 42", "NOT_FOUND", -32004, 404, "clients.get")


async def test_trpc_error_with_extra_data(client: Client) -> None:
    response = await client.post("/trpc/contacts.optOut", data="", headers=JSON)

    assert response.status == 403
    assert await response.json() == _error(
        "Contact opted out", "FORBIDDEN", -32003, 403, "contacts.optOut", reason="opted_out"
    )


async def test_head_is_a_warmup_ping(client: Client) -> None:
    response = await client.head("/trpc/greeting.hello")

    assert response.status == 204


def test_trpc_error_refuses_unknown_codes_and_reserved_data() -> None:
    with pytest.raises(ValueError, match="unknown tRPC error code"):
        TrpcError("TEAPOT", "no")
    with pytest.raises(ValueError, match="may not set"):
        TrpcError("BAD_REQUEST", "no", data={"httpStatus": 200})
