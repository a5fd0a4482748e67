"""Server side of the tRPC v11 HTTP protocol (``httpLink`` / ``httpBatchLink``) for aiohttp.

Mirrors ``@trpc/server`` v11 (``http/resolveResponse.ts``, ``http/contentType.ts``,
``http/getHTTPStatusCode.ts``, ``error/getErrorShape.ts``, ``rpc/codes.ts``) with the superjson
transformer, and subscriptions over server-sent events (``httpSubscriptionLink``, after
``stream/sse.ts``). Deliberate differences: batched calls run one after the other, in order; inputs
are read once, before the first call that needs them; an empty POST body is an absent input;
streaming (``httpBatchStreamLink``) is not offered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Final, Literal

import attrs
from aiohttp import web

from commsinbox.entrypoints.web import superjson

__all__ = ["ERROR_CODES", "Procedure", "Tracked", "TrpcError", "add_trpc_routes"]

_LOG: Final = logging.getLogger("commsinbox.trpc")

#: tRPC error code -> (JSON-RPC code, HTTP status); from ``rpc/codes.ts`` and
#: ``http/getHTTPStatusCode.ts`` of @trpc/server v11.
ERROR_CODES: Final[Mapping[str, tuple[int, int]]] = {
    "PARSE_ERROR": (-32700, 400),
    "BAD_REQUEST": (-32600, 400),
    "INTERNAL_SERVER_ERROR": (-32603, 500),
    "NOT_IMPLEMENTED": (-32603, 501),
    "BAD_GATEWAY": (-32603, 502),
    "SERVICE_UNAVAILABLE": (-32603, 503),
    "GATEWAY_TIMEOUT": (-32603, 504),
    "UNAUTHORIZED": (-32001, 401),
    "PAYMENT_REQUIRED": (-32002, 402),
    "FORBIDDEN": (-32003, 403),
    "NOT_FOUND": (-32004, 404),
    "METHOD_NOT_SUPPORTED": (-32005, 405),
    "TIMEOUT": (-32008, 408),
    "CONFLICT": (-32009, 409),
    "PRECONDITION_FAILED": (-32012, 412),
    "PAYLOAD_TOO_LARGE": (-32013, 413),
    "UNSUPPORTED_MEDIA_TYPE": (-32015, 415),
    "UNPROCESSABLE_CONTENT": (-32022, 422),
    "PRECONDITION_REQUIRED": (-32028, 428),
    "TOO_MANY_REQUESTS": (-32029, 429),
    "CLIENT_CLOSED_REQUEST": (-32099, 499),
}
_RESERVED_DATA_KEYS: Final = frozenset({"code", "httpStatus", "path", "stack"})
_METHOD_BY_KIND: Final = {"query": "GET", "mutation": "POST", "subscription": "GET"}
PING_SECONDS: Final = 10.0  # keeps proxies from closing a quiet event stream
_INTERNAL_MESSAGE: Final = "Internal server error"

Handler = Callable[[web.Request, Any], Awaitable[Any]]


class TrpcError(Exception):
    """An error answered to the client; ``data`` is merged into the shape's ``data`` object."""

    def __init__(self, code: str, message: str, *, data: Mapping[str, Any] | None = None) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown tRPC error code {code!r}")
        extra = dict(data or {})
        if clash := _RESERVED_DATA_KEYS.intersection(extra):
            raise ValueError(f"tRPC error data may not set {sorted(clash)}")
        superjson.serialize(extra)  # fail here, not while answering, if it cannot be encoded
        super().__init__(message)
        self.code = code
        self.message = message
        self.data: Mapping[str, Any] = extra


@attrs.frozen
class Procedure:
    """A subscription's handler returns an async iterator of values (or `Tracked` values), after any check
    that should fail the request as a whole (authentication, input)."""

    kind: Literal["query", "mutation", "subscription"]
    handler: Handler


@attrs.frozen
class Tracked:
    """A subscription value with an id: the client sends the last id back as `lastEventId` to resume."""

    id: str
    data: Any


def add_trpc_routes(
    app: web.Application,
    procedures: Mapping[str, Procedure],
    *,
    prefix: str = "/trpc",
    map_error: Callable[[BaseException], TrpcError | None] = lambda e: None,
    max_body_bytes: int = 1_048_576,
) -> None:
    """Serve ``procedures`` (keyed by dotted path, e.g. ``"inbox.list"``) under ``prefix``."""
    endpoint = _Endpoint(dict(procedures), map_error, max_body_bytes)
    app.router.add_route("*", prefix.rstrip("/") + "/{path:.*}", endpoint.handle)


@attrs.frozen
class _Endpoint:
    procedures: Mapping[str, Procedure]
    map_error: Callable[[BaseException], TrpcError | None]
    max_body_bytes: int

    async def handle(self, request: web.Request) -> web.Response:
        if request.method == "HEAD":
            return web.Response(status=204)
        is_batch = request.query.get("batch") == "1"
        path = request.match_info["path"]
        paths = path.split(",") if is_batch else [path]
        try:
            self._check_request(request, paths)
        except TrpcError as error:
            item, status = _error_item(error, None)
            return _respond(item, status)
        inputs = _Inputs(request, len(paths) if is_batch else None, self.max_body_bytes)
        procedure = self.procedures.get(path)
        if procedure is not None and procedure.kind == "subscription" and not is_batch:
            return await self._subscribe(request, path, procedure, inputs)
        answers = [await self._call(request, p, index, inputs) for index, p in enumerate(paths)]
        statuses = {status for _, status in answers}
        status = statuses.pop() if len(statuses) == 1 else 207
        return _respond([item for item, _ in answers] if is_batch else answers[0][0], status)

    def _check_request(self, request: web.Request, paths: list[str]) -> None:
        content_type = request.headers.get("Content-Type")
        if request.method != "GET" and not (content_type or "").startswith("application/json"):
            message = f'Unsupported content-type "{content_type}"' if content_type else "Missing content-type header"
            raise TrpcError("UNSUPPORTED_MEDIA_TYPE", message)
        kinds = dict.fromkeys(p.kind for path in paths if (p := self.procedures.get(path)))
        if len(kinds) > 1:
            raise TrpcError("BAD_REQUEST", f"Cannot mix procedure types in call: {', '.join(kinds)}")
        if "subscription" in kinds and len(paths) > 1:
            raise TrpcError("BAD_REQUEST", "Subscriptions cannot be batched: use httpSubscriptionLink")
        if request.headers.get("trpc-accept") == "application/jsonl":
            raise TrpcError("BAD_REQUEST", "Streaming responses are not supported: use httpBatchLink")

    async def _call(self, request: web.Request, path: str, index: int, inputs: _Inputs) -> tuple[dict[str, Any], int]:
        procedure = self.procedures.get(path)
        try:
            if procedure is None:
                raise TrpcError("NOT_FOUND", f'No procedure found on path "{path}"')
            if request.method != _METHOD_BY_KIND[procedure.kind]:
                message = f'Unsupported {request.method}-request to {procedure.kind} procedure at path "{path}"'
                raise TrpcError("METHOD_NOT_SUPPORTED", message)
            value = await procedure.handler(request, await inputs.get(index))
        except Exception as exc:  # every failure becomes a tRPC error shape
            return _error_item(self._to_trpc_error(exc, path), path)
        try:
            return {"result": {"data": superjson.serialize(value)}}, 200
        except superjson.SuperJSONError:
            _LOG.exception("tRPC procedure %r returned a value superjson cannot encode", path)
            return _error_item(TrpcError("INTERNAL_SERVER_ERROR", _INTERNAL_MESSAGE), path)

    async def _subscribe(self, request: web.Request, path: str, procedure: Procedure, inputs: _Inputs
                         ) -> web.StreamResponse:
        """Server-sent events: `connected`, then one `data` (with `id` when tracked) per value, `ping` while
        quiet, and `serialized-error` if the iterator fails. A failure before the stream opens (e.g. not
        signed in) is an ordinary error response, which EventSource reports as a failed connection."""
        if request.method != "GET":
            item, status = _error_item(TrpcError("METHOD_NOT_SUPPORTED", f'Unsupported {request.method}-request to '
                                                 f'subscription procedure at path "{path}"'), path)
            return _respond(item, status)
        try:
            values: AsyncIterator[Any] = await procedure.handler(request, await inputs.get(0))
        except Exception as exc:
            item, status = _error_item(self._to_trpc_error(exc, path), path)
            return _respond(item, status)
        response = web.StreamResponse(headers={
            "Content-Type": "text/event-stream", "Cache-Control": "no-cache, no-transform",
            "X-Accel-Buffering": "no", "Vary": "trpc-accept, accept"})
        await response.prepare(request)
        try:
            await response.write(_sse("connected", "{}"))
            await self._pump(values, response, path)
        except ConnectionResetError:
            pass  # the client went away
        finally:
            await _close(values)
        return response

    async def _pump(self, values: AsyncIterator[Any], response: web.StreamResponse, path: str) -> None:
        following: asyncio.Task[Any] | None = None
        try:
            while True:
                following = following or asyncio.ensure_future(anext(values))
                done, _ = await asyncio.wait({following}, timeout=PING_SECONDS)
                if not done:
                    await response.write(_sse("ping", ""))
                    continue
                try:
                    value = following.result()
                except StopAsyncIteration:
                    await response.write(_sse("return", ""))
                    return
                except Exception as exc:
                    shape = _error_item(self._to_trpc_error(exc, path), path)[0]["error"]
                    await response.write(_sse("serialized-error", _dumps(shape)))
                    return
                following = None
                if isinstance(value, Tracked):
                    await response.write(_sse(None, _dumps(superjson.serialize(value.data)), value.id))
                else:
                    await response.write(_sse(None, _dumps(superjson.serialize(value))))
        finally:
            if following is not None and not following.done():
                following.cancel()
                with contextlib.suppress(BaseException):
                    await following

    def _to_trpc_error(self, exc: Exception, path: str) -> TrpcError:
        if isinstance(exc, TrpcError):
            return exc
        try:
            mapped = self.map_error(exc)
        except Exception:  # a broken mapper must not break the response
            _LOG.exception("map_error failed for an error of tRPC procedure %r", path)
            mapped = None
        if mapped is not None:
            return mapped
        _LOG.exception("Unhandled error in tRPC procedure %r", path, exc_info=exc)
        return TrpcError("INTERNAL_SERVER_ERROR", _INTERNAL_MESSAGE)


class _Inputs:
    """The request's inputs by batch index, read and decoded once (like tRPC's memoised reader)."""

    def __init__(self, request: web.Request, batch_size: int | None, max_body_bytes: int) -> None:
        self._request = request
        self._batch_size = batch_size  # None when not batched
        self._max_body_bytes = max_body_bytes
        self._loaded: dict[int, Any] | TrpcError | None = None

    async def get(self, index: int) -> Any:
        if self._loaded is None:
            try:
                self._loaded = await self._load()
            except TrpcError as error:
                self._loaded = error
        if isinstance(self._loaded, TrpcError):
            raise self._loaded
        return self._loaded.get(index)

    async def _load(self) -> dict[int, Any]:
        raw = self._request.query.get("input") if self._request.method == "GET" else await self._read_body()
        if not raw:
            return {}
        try:
            inputs = json.loads(raw, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, too deep
            raise TrpcError("BAD_REQUEST", f"Invalid JSON: {exc}") from exc
        if self._batch_size is None:
            return {0: _decode(inputs)}
        if not isinstance(inputs, dict):
            raise TrpcError("BAD_REQUEST", '"input" needs to be an object when doing a batch call')
        return {i: _decode(inputs[str(i)]) for i in range(self._batch_size) if str(i) in inputs}

    async def _read_body(self) -> bytes:
        limit = self._max_body_bytes
        declared = self._request.content_length
        if declared is not None and declared > limit:
            raise TrpcError("PAYLOAD_TOO_LARGE", "PAYLOAD_TOO_LARGE")
        chunks: list[bytes] = []
        size = 0
        async for chunk in self._request.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > limit:
                raise TrpcError("PAYLOAD_TOO_LARGE", "PAYLOAD_TOO_LARGE")
            chunks.append(chunk)
        return b"".join(chunks)


def _decode(value: Any) -> Any:
    try:
        return superjson.deserialize(value)
    except (superjson.SuperJSONError, RecursionError) as exc:
        raise TrpcError("BAD_REQUEST", f"Invalid superjson input: {exc}") from exc


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _error_item(error: TrpcError, path: str | None) -> tuple[dict[str, Any], int]:
    rpc_code, status = ERROR_CODES[error.code]
    data: dict[str, Any] = {"code": error.code, "httpStatus": status}
    if path is not None:
        data["path"] = path
    data.update(error.data)
    shape = {"message": error.message, "code": rpc_code, "data": data}
    return {"error": superjson.serialize(shape)}, status


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _sse(event: str | None, data: str, id: str | None = None) -> bytes:
    """One event; `data` is JSON, which never holds a raw line break."""
    lines = ([f"event: {event}"] if event else []) + [f"data: {data}"] + ([f"id: {id}"] if id is not None else [])
    return ("\n".join(lines) + "\n\n").encode()


async def _close(values: AsyncIterator[Any]) -> None:
    aclose = getattr(values, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()


def _respond(body: Any, status: int) -> web.Response:
    text = _dumps(body)
    return web.Response(
        body=text.encode(),
        status=status,
        content_type="application/json",
        headers={"Vary": "trpc-accept, accept"},
    )
