"""Meta Graph errors (WhatsApp Cloud API and Instagram): `{"error": {"message", "type", "code", "error_subcode",
"error_data": {"details"}}}` → what kind of failure it is and why, in the domain's words.

Logic keys on `code` (plus the few Instagram subcodes Meta documents), never on titles or HTTP statuses: Meta says
not to rely on them (providers.md §2.6, §2.7, §3.2, §5). Used for synchronous answers and for the error codes of
asynchronous `failed` status webhooks alike (`graph_reason`).
"""
from __future__ import annotations

from typing import Any

from ...ports.providers import FailureReason as R
from .http import ErrorInfo, ErrorKind

__all__ = ["GRAPH_CREDENTIAL_CODES", "GRAPH_TRANSIENT_CODES", "graph_reason", "read_graph_error"]

GRAPH_CREDENTIAL_CODES = frozenset({0, 190})
GRAPH_TRANSIENT_CODES = frozenset({
    2, 4, 80007, 130429, 131000, 131016,  # overload, app / WABA / number throughput, unknown, unavailable
    131056, 131057,  # pair rate limit, maintenance during a throughput upgrade (providers.md §5)
    17, 32, 613, 80002, 80006,  # Instagram / Messenger business-use-case throttling (providers.md §3.2)
})

_REASONS: dict[int, R] = {
    131047: R.WINDOW_CLOSED,
    131050: R.OPTED_OUT,  # the user stopped marketing messages
    4: R.RATE_LIMITED, 80007: R.RATE_LIMITED, 130429: R.RATE_LIMITED, 131056: R.RATE_LIMITED,
    17: R.RATE_LIMITED, 32: R.RATE_LIMITED, 613: R.RATE_LIMITED, 80002: R.RATE_LIMITED, 80006: R.RATE_LIMITED,
    131026: R.INVALID_RECIPIENT, 131021: R.INVALID_RECIPIENT, 130403: R.INVALID_RECIPIENT,
    132000: R.TEMPLATE_REJECTED, 132001: R.TEMPLATE_REJECTED, 132005: R.TEMPLATE_REJECTED,
    132007: R.TEMPLATE_REJECTED, 132012: R.TEMPLATE_REJECTED, 132015: R.TEMPLATE_REJECTED,
    132016: R.TEMPLATE_REJECTED, 132018: R.TEMPLATE_REJECTED,
    131051: R.UNSUPPORTED,
    131052: R.MEDIA_REJECTED, 131053: R.MEDIA_REJECTED,
    0: R.CREDENTIALS_REJECTED, 190: R.CREDENTIALS_REJECTED,
    3: R.PERMISSION_DENIED, 10: R.PERMISSION_DENIED, 131005: R.PERMISSION_DENIED,
    33: R.ACCOUNT_RESTRICTED, 368: R.ACCOUNT_RESTRICTED, 130497: R.ACCOUNT_RESTRICTED, 131031: R.ACCOUNT_RESTRICTED,
    131037: R.ACCOUNT_RESTRICTED, 131042: R.ACCOUNT_RESTRICTED, 131045: R.ACCOUNT_RESTRICTED,
    131048: R.ACCOUNT_RESTRICTED, 131063: R.ACCOUNT_RESTRICTED, 131064: R.ACCOUNT_RESTRICTED,
    100: R.INVALID_REQUEST, 131008: R.INVALID_REQUEST, 131009: R.INVALID_REQUEST,
    2: R.UNAVAILABLE, 131000: R.UNAVAILABLE, 131016: R.UNAVAILABLE, 131057: R.UNAVAILABLE,
}
_REASONS.update({code: R.PERMISSION_DENIED for code in range(200, 300)})
_SUBCODE_REASONS: dict[int, R] = {
    2534022: R.WINDOW_CLOSED,  # Instagram: "This message is sent outside of allowed window." (code 10)
    2018278: R.WINDOW_CLOSED,  # Messenger's equivalent
    2534014: R.INVALID_RECIPIENT,  # Instagram: user not found
}


def graph_reason(code: int | str | None, subcode: int | str | None = None) -> R | None:
    """The domain reason for a Graph error code (and subcode); None when Meta's code is not one we classify."""
    for value, table in ((subcode, _SUBCODE_REASONS), (code, _REASONS)):
        if value is not None and str(value).isdigit() and int(value) in table:
            return table[int(value)]
    return None


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
    if not isinstance(subcode, int) or isinstance(subcode, bool):
        subcode = None
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    if isinstance(details, str) and details and details not in (message or ""):
        message = f"{message or 'error'}: {details}"
    if subcode is not None:
        message = f"{message or 'error'} (subcode {subcode})"
    if code in GRAPH_CREDENTIAL_CODES:
        kind = ErrorKind.CREDENTIALS
    elif code in GRAPH_TRANSIENT_CODES:
        kind = ErrorKind.TRANSIENT
    else:
        kind = ErrorKind.PERMANENT
    return ErrorInfo(code=str(code), message=message, kind=kind, reason=graph_reason(code, subcode))
