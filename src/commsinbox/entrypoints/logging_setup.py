"""Structured logging: one JSON object per line, with secrets redacted.

Three layers of redaction, from cheapest to broadest:

1. :class:`~commsinbox.entrypoints.config.Secret` values render as ``**********``
   wherever they appear (message args, ``extra=`` fields, nested containers).
2. Values under sensitive-looking keys (``password``, ``token``, ``cookie``...)
   in ``extra=`` fields and dict arguments are replaced by ``**********``.
3. Secret *values* registered with :func:`install_secret_filter` are cut out
   of every rendered string, tracebacks included.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import sys
from collections.abc import Iterable, Mapping
from typing import IO, Any

from commsinbox.entrypoints.config import MASK, Secret

__all__ = [
    "JsonFormatter",
    "configure_logging",
    "install_secret_filter",
    "redact",
]

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
MIN_SECRET_LENGTH = 6
SENSITIVE_KEY = re.compile(
    r"passw(or)?d|secret|token|authorization|cookie|api[_-]?key|access[_-]?key|credentials?",
    re.IGNORECASE,
)

_known_secrets: set[str] = set()
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__
) | {"message", "asctime", "taskName"}


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of each secret (at least 6 characters) with the mask."""
    candidates = {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}
    for secret in sorted(candidates, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def install_secret_filter(secrets: Iterable[str | Secret]) -> None:
    """Register secret values to cut out of every log line (shorter than 6 are ignored)."""
    for secret in secrets:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if len(value) >= MIN_SECRET_LENGTH:
            _known_secrets.add(value)
            # Lines are JSON: also match the escaped spelling (quotes, backslashes, controls).
            _known_secrets.add(json.dumps(value, ensure_ascii=False)[1:-1])


def _scrub(value: Any) -> Any:
    """Mask values under sensitive keys; Secret objects mask themselves when rendered."""
    if isinstance(value, Mapping):
        return {
            k: MASK if isinstance(k, str) and SENSITIVE_KEY.search(k) else _scrub(v)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(_scrub(v) for v in value) if type(value) in (list, tuple) else value
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, (set, frozenset)):
        return [_scrub(v) for v in value]
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


class JsonFormatter(logging.Formatter):
    """Renders a record as one JSON object: ts, level, logger, msg, extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        msg = str(_scrub(record.msg))
        if record.args:
            try:
                msg = msg % _scrub(record.args)
            except (TypeError, ValueError, KeyError):
                msg = f"{msg} (arguments did not match: {_scrub(record.args)!r})"
        payload: dict[str, Any] = {
            "ts": datetime.datetime.fromtimestamp(record.created, datetime.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": msg,
        }
        for key, value in record.__dict__.items():
            if key in _STANDARD_ATTRS or key.startswith("_"):
                continue
            name = key if key not in payload else f"extra_{key}"
            payload[name] = value  # keys and values are scrubbed below
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            payload["exc"] = record.exc_text
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        line = json.dumps(_scrub(payload), default=_json_default, ensure_ascii=False)
        return redact(line, _known_secrets)  # known values, raw or JSON-escaped


class _JsonHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marker subclass so configure_logging can find and replace its own handler."""


def configure_logging(level: str, stream: IO[str] | None = None) -> None:
    """Send every record to one JSON-lines handler on the root logger.

    Calling it again replaces the handler (new stream, new level) rather than adding one.
    """
    level = level.upper()
    if level not in LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LEVELS)}")
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _JsonHandler)]:
        root.removeHandler(handler)
        handler.close()
    handler = _JsonHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
