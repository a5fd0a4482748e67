"""One validated settings object, read once from the environment.

Every variable is listed in :data:`VARIABLES`, which is the single source of
truth for names, defaults and the "expected format" text used both in error
messages and in the README's configuration table.  Error messages never
contain the offending value: a mistyped secret must not end up in a log.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import os
import pathlib
import re
from collections.abc import Callable, Mapping
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import attrs

from ..domain.model.errors import InvalidInput
from ..domain.model.values import QuietHours

__all__ = [
    "MASK",
    "VARIABLES",
    "ConfigError",
    "Secret",
    "Settings",
    "VariableDoc",
    "decode_key",
]

MASK = "**********"
_log = logging.getLogger("commsinbox.config")


class Secret:
    """A secret string that does not show itself in repr, str, f-strings or pickles."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret wraps a str")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, format_spec: str) -> str:
        return format(MASK, format_spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    __hash__ = None  # type: ignore[assignment]

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Secret is immutable")

    def __reduce_ex__(self, protocol: object) -> Any:
        raise TypeError("Secret values cannot be pickled")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: object) -> Secret:
        return self


class ConfigError(Exception):
    """A variable is missing or malformed. The message never contains its value."""

    def __init__(
        self,
        variable: str,
        expected: str,
        *,
        required: bool = False,
        when: str | None = None,
        reason: str | None = None,
    ) -> None:
        self.variable = variable
        self.expected = expected
        self.reason = reason
        if required:
            message = f"{variable} is required" + (f" when {when}" if when else "")
        else:
            message = f"{variable} is invalid"
        message += f": expected {expected}"
        if reason:
            message += f" ({reason})"
        super().__init__(message)


@attrs.frozen
class VariableDoc:
    """One environment variable, as documented in the README."""

    name: str
    default: str | None
    expected: str
    secret: bool = False
    required_when: str | None = None


# --------------------------------------------------------------------------- table

_PG_URL = (
    "a postgresql://, postgres:// or postgresql+psycopg:// URL with a host "
    "(or ?host= for a Unix socket)"
)
_HTTP_URL = "an http:// or https:// URL with a host and no credentials, query or fragment"
_HEX32 = "32 hex characters"
_KEY32 = "base64 (standard or URL-safe) of exactly 32 bytes"


def _printable(low: int, high: int | None = None) -> str:
    count = f"at least {low}" if high is None else f"{low} to {high}"
    return f"{count} printable ASCII characters without whitespace"


VARIABLES: tuple[VariableDoc, ...] = (
    VariableDoc("COMMSINBOX_ENV", "development", "development or production"),
    VariableDoc("DATABASE_URL", None, _PG_URL, secret=True),
    VariableDoc("DATABASE_APP_URL", None, _PG_URL, secret=True),
    VariableDoc("COMMSINBOX_DATA_DIR", "./var", "a directory path"),
    VariableDoc("PUBLIC_BASE_URL", "http://127.0.0.1:8080", _HTTP_URL),
    VariableDoc("LOG_LEVEL", "INFO", "one of DEBUG, INFO, WARNING, ERROR"),
    VariableDoc("TWILIO_ACCOUNT_SID", None, "AC followed by 32 hex characters"),
    VariableDoc("TWILIO_AUTH_TOKEN", None, _HEX32, secret=True),
    VariableDoc("TWILIO_SIGNING_KEY", None, "an API key SID: SK followed by 32 hex characters"),
    VariableDoc("TWILIO_API_BASE_URL", "https://api.twilio.com", _HTTP_URL),
    VariableDoc("META_APP_ID", None, "1 to 32 digits"),
    VariableDoc("META_APP_SECRET", None, _HEX32, secret=True),
    VariableDoc("META_VERIFY_TOKEN", None, _printable(8, 256), secret=True),
    VariableDoc("META_WEBHOOK_SECRET", None, _printable(16, 256), secret=True),
    VariableDoc("META_APP_ACCESS_TOKEN", None, _printable(1), secret=True),
    VariableDoc("META_GRAPH_BASE_URL", "https://graph.facebook.com", _HTTP_URL),
    VariableDoc("META_GRAPH_VERSION", "v23.0", "v<major>.<minor>, e.g. v23.0"),
    VariableDoc(
        "CREDENTIALS_ENCRYPTION_KEYS",
        None,
        "comma-separated id:key entries, newest first; unique ids of 1 to 32 letters, "
        f"digits, _ or -; each key {_KEY32}",
        secret=True,
        required_when="COMMSINBOX_ENV is production",
    ),
    VariableDoc("BAILEYS_ENCRYPTION_KEY", None, _KEY32, secret=True),
    VariableDoc(
        "QUIET_HOURS_DEFAULT",
        "21:00-08:00",
        "HH:MM-HH:MM between 00:00 and 23:59, start different from end",
    ),
    VariableDoc("STORAGE_BACKEND", "local", "local or s3"),
    VariableDoc("S3_ENDPOINT_URL", None, _HTTP_URL, required_when="STORAGE_BACKEND is s3"),
    VariableDoc(
        "S3_BUCKET",
        "vault",
        "an S3 bucket name: 3 to 63 lowercase letters, digits, dots or hyphens, starting "
        "and ending with a letter or digit, not shaped like an IP address",
    ),
    VariableDoc("S3_REGION", "us-east-1", "1 to 64 letters, digits, _ or -"),
    VariableDoc(
        "S3_ACCESS_KEY_ID", None, _printable(1, 128), required_when="STORAGE_BACKEND is s3"
    ),
    VariableDoc(
        "S3_SECRET_ACCESS_KEY",
        None,
        _printable(1, 256),
        secret=True,
        required_when="STORAGE_BACKEND is s3",
    ),
    VariableDoc("SUPABASE_JWT_SECRET", None, _printable(32), secret=True),
    VariableDoc("SUPABASE_JWT_AUDIENCE", "authenticated", _printable(1, 256)),
    VariableDoc("SUPABASE_JWT_ISSUER", None, _HTTP_URL),
    VariableDoc("LOGIN_RATE_LIMIT", "10/300", "N/SECONDS with positive integers, e.g. 10/300"),
)

LEGACY_BAILEYS = "BAILLEYS_ENCRYPTION_KEY"
_DOCS = {doc.name: doc for doc in VARIABLES}


# --------------------------------------------------------------------------- parsers


class _Invalid(ValueError):
    """A ValueError whose message is safe to show (it never contains the value)."""


def _regex(pattern: str, *, secret: bool = False, upper: bool = False) -> Callable[[str], Any]:
    compiled = re.compile(pattern, re.ASCII)

    def parse(text: str) -> Any:
        if upper:
            text = text.upper()
        if compiled.fullmatch(text) is None:
            raise ValueError
        return Secret(text) if secret else text

    return parse


def _printable_parser(
    low: int, high: int | None = None, *, secret: bool = False
) -> Callable[[str], Any]:
    return _regex(rf"[\x21-\x7e]{{{low},{'' if high is None else high}}}", secret=secret)


def _http_url(*, strip_slash: bool = True) -> Callable[[str], str]:
    def parse(text: str) -> str:
        parts = urlsplit(text)
        _ = parts.port  # raises ValueError on a bad port
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or "@" in parts.netloc
            or parts.query
            or parts.fragment
            or "?" in text
            or "#" in text
            or any(c.isspace() for c in text)
        ):
            raise ValueError
        return text.rstrip("/") if strip_slash else text

    return parse


def _pg_url(text: str) -> Secret:
    parts = urlsplit(text)
    _ = parts.port
    has_socket = any(parse_qs(parts.query).get("host", []))
    if (
        parts.scheme not in ("postgresql", "postgres", "postgresql+psycopg")
        or not (parts.hostname or has_socket)
        or any(c.isspace() for c in text)
    ):
        raise ValueError
    return Secret(text)


def _quiet_hours(text: str) -> QuietHours:
    try:
        return QuietHours.parse(text)
    except InvalidInput:
        raise ValueError("not HH:MM-HH:MM with different start and end") from None


def decode_key(value: str | Secret) -> bytes:
    """Decode standard or URL-safe base64 (padding optional) of exactly 32 bytes."""
    text = value.reveal() if isinstance(value, Secret) else value
    padded = (text + "=" * (-len(text) % 4)).encode("ascii", errors="replace")
    for altchars in (None, b"-_"):
        try:
            raw = base64.b64decode(padded, altchars=altchars, validate=True)
        except binascii.Error:
            continue
        if len(raw) == 32:
            return raw
        raise _Invalid("the key does not decode to 32 bytes")
    raise _Invalid("the key is not base64")


def _key32(text: str) -> Secret:
    decode_key(text)
    return Secret(text)


def _keyring(text: str) -> tuple[tuple[str, Secret], ...]:
    keys: list[tuple[str, Secret]] = []
    seen: set[str] = set()
    for position, entry in enumerate(text.split(","), start=1):
        key_id, sep, key = entry.strip().partition(":")
        if not sep or not key:
            raise _Invalid(f"entry {position} is not id:key")
        if re.fullmatch(r"[A-Za-z0-9_-]{1,32}", key_id, re.ASCII) is None:
            raise _Invalid(f"entry {position} has an invalid id")
        if key_id in seen:
            raise _Invalid(f"entry {position} repeats an earlier id")
        try:
            decode_key(key)
        except _Invalid as error:
            raise _Invalid(f"entry {position}: {error}") from None
        seen.add(key_id)
        keys.append((key_id, Secret(key)))
    return tuple(keys)


def _bucket(text: str) -> str:
    if (
        re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", text) is None
        or ".." in text
        or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", text)
        or text.startswith(("xn--", "sthree-"))
        or text.endswith(("-s3alias", "--ol-s3"))
    ):
        raise ValueError
    return text


def _rate_limit(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"([1-9][0-9]{0,8})/([1-9][0-9]{0,8})", text, re.ASCII)
    if match is None:
        raise ValueError
    return int(match[1]), int(match[2])


def _path(text: str) -> pathlib.Path:
    if "\x00" in text:
        raise ValueError
    return pathlib.Path(text).expanduser().absolute()


# wire name -> (Settings field, parser). Parsers raise ValueError on bad input.
_PARSERS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "COMMSINBOX_ENV": ("env", _regex("development|production")),
    "DATABASE_URL": ("database_url", _pg_url),
    "DATABASE_APP_URL": ("database_app_url", _pg_url),
    "COMMSINBOX_DATA_DIR": ("data_dir", _path),
    "PUBLIC_BASE_URL": ("public_base_url", _http_url()),
    "LOG_LEVEL": ("log_level", _regex("DEBUG|INFO|WARNING|ERROR", upper=True)),
    "TWILIO_ACCOUNT_SID": ("twilio_account_sid", _regex("AC[0-9a-fA-F]{32}")),
    "TWILIO_AUTH_TOKEN": ("twilio_auth_token", _regex("[0-9a-fA-F]{32}", secret=True)),
    "TWILIO_SIGNING_KEY": ("twilio_signing_key", _regex("SK[0-9a-fA-F]{32}")),
    "TWILIO_API_BASE_URL": ("twilio_api_base_url", _http_url()),
    "META_APP_ID": ("meta_app_id", _regex("[0-9]{1,32}")),
    "META_APP_SECRET": ("meta_app_secret", _regex("[0-9a-fA-F]{32}", secret=True)),
    "META_VERIFY_TOKEN": ("meta_verify_token", _printable_parser(8, 256, secret=True)),
    "META_WEBHOOK_SECRET": ("meta_webhook_secret", _printable_parser(16, 256, secret=True)),
    "META_APP_ACCESS_TOKEN": ("meta_app_access_token", _printable_parser(1, secret=True)),
    "META_GRAPH_BASE_URL": ("meta_graph_base_url", _http_url()),
    "META_GRAPH_VERSION": ("meta_graph_version", _regex(r"v\d+\.\d+")),
    "CREDENTIALS_ENCRYPTION_KEYS": ("credentials_keys", _keyring),
    "BAILEYS_ENCRYPTION_KEY": ("baileys_encryption_key", _key32),
    "QUIET_HOURS_DEFAULT": ("quiet_hours_default", _quiet_hours),
    "STORAGE_BACKEND": ("storage_backend", _regex("local|s3")),
    "S3_ENDPOINT_URL": ("s3_endpoint_url", _http_url()),
    "S3_BUCKET": ("s3_bucket", _bucket),
    "S3_REGION": ("s3_region", _regex("[A-Za-z0-9_-]{1,64}")),
    "S3_ACCESS_KEY_ID": ("s3_access_key_id", _printable_parser(1, 128)),
    "S3_SECRET_ACCESS_KEY": ("s3_secret_access_key", _printable_parser(1, 256, secret=True)),
    "SUPABASE_JWT_SECRET": ("supabase_jwt_secret", _printable_parser(32, secret=True)),
    "SUPABASE_JWT_AUDIENCE": ("supabase_jwt_audience", _printable_parser(1, 256)),
    "SUPABASE_JWT_ISSUER": ("supabase_jwt_issuer", _http_url(strip_slash=False)),
    "LOGIN_RATE_LIMIT": ("login_rate_limit", _rate_limit),
}
assert set(_PARSERS) == set(_DOCS), "VARIABLES and _PARSERS must list the same names"


def _parse(source: str, doc: VariableDoc, text: str) -> Any:
    _field, parse = _PARSERS[doc.name]
    try:
        return parse(text)
    except ValueError as error:
        # Only our own _Invalid messages are safe; stdlib ones may quote the value.
        reason = str(error) if isinstance(error, _Invalid) else None
    # Raised outside the except block so no __context__ carries the value along.
    raise ConfigError(source, doc.expected, reason=reason)


# --------------------------------------------------------------------------- settings


@attrs.frozen(kw_only=True)
class Settings:
    env: Literal["development", "production"]
    database_url: Secret | None = None
    database_app_url: Secret | None = None
    data_dir: pathlib.Path
    public_base_url: str
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"]
    twilio_account_sid: str | None = None
    twilio_auth_token: Secret | None = None
    twilio_signing_key: str | None = None
    twilio_api_base_url: str
    meta_app_id: str | None = None
    meta_app_secret: Secret | None = None
    meta_verify_token: Secret | None = None
    meta_webhook_secret: Secret | None = None
    meta_app_access_token: Secret | None = None
    meta_graph_base_url: str
    meta_graph_version: str
    credentials_keys: tuple[tuple[str, Secret], ...] = ()
    baileys_encryption_key: Secret | None = None
    quiet_hours_default: QuietHours
    storage_backend: Literal["local", "s3"]
    s3_endpoint_url: str | None = None
    s3_bucket: str
    s3_region: str
    s3_access_key_id: str | None = None
    s3_secret_access_key: Secret | None = None
    supabase_jwt_secret: Secret | None = None
    supabase_jwt_audience: str
    supabase_jwt_issuer: str | None = None
    login_rate_limit: tuple[int, int]
    warnings: tuple[str, ...] = ()

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def supabase_jwt_enabled(self) -> bool:
        return self.supabase_jwt_secret is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            return env.get(name) or None  # empty counts as unset

        values: dict[str, Any] = {}
        notes: list[str] = []
        for doc in VARIABLES:
            source, text = doc.name, get(doc.name)
            if doc.name == "BAILEYS_ENCRYPTION_KEY" and get(LEGACY_BAILEYS) is not None:
                if text is None:
                    source, text = LEGACY_BAILEYS, get(LEGACY_BAILEYS)
                    notes.append(
                        f"{LEGACY_BAILEYS} is a deprecated misspelling; "
                        f"rename it to {doc.name}"
                    )
                else:
                    notes.append(
                        f"{LEGACY_BAILEYS} is ignored because {doc.name} is set; remove it"
                    )
            if text is None:
                text = doc.default
            field = _PARSERS[doc.name][0]
            values[field] = None if text is None else _parse(source, doc, text)

        if values["storage_backend"] == "s3":
            for name in ("S3_ENDPOINT_URL", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"):
                _require(name, values)
        if values["env"] == "production":
            _require("CREDENTIALS_ENCRYPTION_KEYS", values)
        if values["credentials_keys"] is None:
            values["credentials_keys"] = ()

        for note in notes:
            _log.warning(note)
        return cls(**values, warnings=tuple(notes))

    def describe(self) -> dict[str, str | None]:
        """Variable name -> display value; secrets show as MASK when set, None when unset."""
        shown: dict[str, str | None] = {}
        for doc in VARIABLES:
            value = getattr(self, _PARSERS[doc.name][0])
            if value is None or value == ():
                shown[doc.name] = None
            elif doc.secret:
                shown[doc.name] = MASK
            elif isinstance(value, tuple):
                shown[doc.name] = "/".join(map(str, value))
            else:
                shown[doc.name] = str(value)
        return shown

    def secret_values(self) -> tuple[str, ...]:
        """Every revealed secret (and database passwords), for the log redaction filter."""
        found: list[str] = []
        for doc in VARIABLES:
            if not doc.secret:
                continue
            value = getattr(self, _PARSERS[doc.name][0])
            if isinstance(value, Secret):
                found.append(value.reveal())
                if doc.name.startswith("DATABASE_"):
                    password = urlsplit(value.reveal()).password
                    if password:
                        found.append(password)
            elif isinstance(value, tuple):
                found.extend(key.reveal() for _id, key in value)
        return tuple(dict.fromkeys(found))


def _require(name: str, values: dict[str, Any]) -> None:
    doc = _DOCS[name]
    if values[_PARSERS[name][0]] in (None, ()):
        raise ConfigError(name, doc.expected, required=True, when=doc.required_when)
