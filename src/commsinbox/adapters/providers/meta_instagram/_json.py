"""Reads a decoded webhook body with its JSON path at hand: every refusal is a ValueError naming that path."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def as_object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{path or '$'}: expected an object, got {type(value).__name__}")
    return value


def child(parent: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    """The required object under `key`."""
    return as_object(parent.get(key), join(path, key))


def optional_child(parent: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any] | None:
    """The object under `key`, or None when it is absent (or null)."""
    value = parent.get(key)
    return None if value is None else as_object(value, join(path, key))


def objects(parent: Mapping[str, Any], key: str, path: str, *,
            required: bool = False) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(path, object) for each item of the array under `key`; nothing when it is absent and not required."""
    where = join(path, key)
    value = parent.get(key)
    if value is None and not required:
        return
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected an array, got {type(value).__name__}")
    for index, item in enumerate(value):
        item_path = f"{where}[{index}]"
        yield item_path, as_object(item, item_path)


def string(parent: Mapping[str, Any], key: str, path: str) -> str:
    """A required, non-empty string."""
    value = parent.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{join(path, key)}: expected a non-empty string, got {value!r}")
    return value


def optional_string(parent: Mapping[str, Any], key: str, path: str) -> str | None:
    """A string when present; absent, null and "" all read as None."""
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{join(path, key)}: expected a string, got {type(value).__name__}")
    return value or None


def flag(parent: Mapping[str, Any], key: str, path: str) -> bool:
    """A boolean marker such as `is_echo`: absent (or null) means False."""
    value = parent.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValueError(f"{join(path, key)}: expected true or false, got {value!r}")
    return value


def millis(parent: Mapping[str, Any], key: str, path: str) -> int:
    """A required integer count of milliseconds since the epoch."""
    value = parent.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{join(path, key)}: expected milliseconds since the epoch, got {value!r}")
    return value


def utc(milliseconds: int) -> dt.datetime:
    """Exact to the millisecond (no float rounding), timezone-aware UTC."""
    return _EPOCH + dt.timedelta(milliseconds=milliseconds)


def plain(value: Any) -> Any:
    """A detached copy of a JSON value as plain dicts and lists, so events never share the caller's payload."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value
