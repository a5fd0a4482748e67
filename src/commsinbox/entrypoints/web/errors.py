"""Domain errors → tRPC error codes. The only place that knows both."""
from __future__ import annotations

from ...domain.model.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    PolicyBlocked,
    TooManyAttempts,
    Unauthenticated,
)
from ...ports.providers import ProviderError
from .trpc import TrpcError


def to_trpc(exc: BaseException) -> TrpcError | None:
    if isinstance(exc, InvalidInput):
        fields = [{"path": f.path, "message": f.message} for f in exc.fields]
        return TrpcError("BAD_REQUEST", str(exc), data={"fields": fields})
    if isinstance(exc, TooManyAttempts):
        return TrpcError("TOO_MANY_REQUESTS", str(exc), data={"retryAfter": exc.retry_after_seconds})
    if isinstance(exc, PolicyBlocked):
        return TrpcError("PRECONDITION_FAILED", str(exc), data={"reason": exc.reason})
    if isinstance(exc, ProviderError):
        return TrpcError("BAD_GATEWAY" if exc.transient else "PRECONDITION_FAILED",
                         f"the provider could not be reached: {exc}" if exc.transient else str(exc),
                         data={"reason": "provider_error", "providerCode": exc.code})
    codes = ((NotFound, "NOT_FOUND"), (Conflict, "CONFLICT"), (Forbidden, "FORBIDDEN"),
             (Unauthenticated, "UNAUTHORIZED"), (DomainError, "BAD_REQUEST"))
    for kind, code in codes:
        if isinstance(exc, kind):
            return TrpcError(code, str(exc))
    return None
