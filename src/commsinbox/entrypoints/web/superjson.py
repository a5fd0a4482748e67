"""The `superjson` wire format (npm `superjson` v2, as used by tRPC's transformer).

A payload is ``{"json": <plain JSON>, "meta": {"values": <tree>, "v": 1}}``; ``meta`` is omitted
when nothing needs an annotation. The tree mirrors the value: a leaf is ``[type]``, an annotated
container is ``[type, {child_path: tree}]`` and an unannotated container is just
``{child_path: tree}``, where runs of unannotated containers are folded into one dotted path.
Path segments escape ``\\`` as ``\\\\`` and ``.`` as ``\\.`` (meta ``v`` >= 1; older payloads
only know ``\\.``).

Python to superjson: tz-aware ``datetime`` -> ``Date``; NaN/±Infinity/-0.0 -> ``number``;
``set``/``frozenset`` -> ``Set``; mappings -> objects (str keys); lists/tuples -> arrays.
superjson to Python additionally understands ``undefined`` (an absent key in an object, ``None``
elsewhere), ``bigint`` -> ``int`` and ``Map`` -> ``dict``. ``referentialEqualities`` is ignored:
without ``dedupe`` (tRPC's setting) every shared object is already spelled out in ``json``.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Final

__all__ = ["SuperJSONError", "deserialize", "serialize"]

_FORBIDDEN_KEYS: Final = frozenset({"__proto__", "prototype", "constructor"})
_SPECIAL_NUMBERS: Final[Mapping[str, float]] = {
    "NaN": math.nan,
    "Infinity": math.inf,
    "-Infinity": -math.inf,
    "-0": -0.0,
}
_BIGINT: Final = re.compile(r"-?[0-9]+")
_UNDEFINED: Final = object()


class SuperJSONError(ValueError):
    """A value cannot be serialized, or a payload is not valid superjson."""


# --------------------------------------------------------------------------- serialize


def serialize(value: Any) -> dict[str, Any]:
    """Return ``{"json": ..., "meta": {"values": ..., "v": 1}}`` (``meta`` only when needed)."""
    plain, annotations = _walk(value, ())
    result: dict[str, Any] = {"json": plain}
    if annotations is not None:
        result["meta"] = {"values": annotations, "v": 1}
    return result


def _walk(value: Any, ancestors: tuple[int, ...]) -> tuple[Any, Any]:
    """Return ``(plain JSON value, annotation tree or None)`` like superjson's ``walker``."""
    if value is None or isinstance(value, (bool, str, int)):
        return value, None
    if isinstance(value, float):
        return _walk_float(value)
    if isinstance(value, datetime):
        return _format_date(value), ["Date"]
    node_type: str | None = None
    if isinstance(value, Mapping):
        items = list(value.items())
        for key, _ in items:
            _check_key(key)
    elif isinstance(value, (list, tuple)):
        items = [(str(index), item) for index, item in enumerate(value)]
    elif isinstance(value, (set, frozenset)):
        items = [(str(index), item) for index, item in enumerate(value)]
        node_type = "set"
    else:
        raise SuperJSONError(f"superjson cannot serialize a value of type {type(value).__name__}")
    if id(value) in ancestors:
        raise SuperJSONError("superjson cannot serialize a circular structure")
    inner_ancestors = (*ancestors, id(value))
    plain: Any = {} if isinstance(value, Mapping) else []
    children: dict[str, Any] = {}
    for key, item in items:
        item_plain, item_tree = _walk(item, inner_ancestors)
        if isinstance(plain, dict):
            plain[key] = item_plain
        else:
            plain.append(item_plain)
        if isinstance(item_tree, list):
            children[_escape_key(key)] = item_tree
        elif isinstance(item_tree, dict):
            for sub_path, sub_tree in item_tree.items():
                children[f"{_escape_key(key)}.{sub_path}"] = sub_tree
    if not children:
        return plain, [node_type] if node_type else None
    return plain, [node_type, children] if node_type else children


def _walk_float(value: float) -> tuple[Any, Any]:
    if math.isnan(value):
        return "NaN", ["number"]
    if math.isinf(value):
        return ("Infinity" if value > 0 else "-Infinity"), ["number"]
    if value == 0 and math.copysign(1.0, value) < 0:
        return "-0", ["number"]
    return value, None


def _check_key(key: object) -> None:
    if not isinstance(key, str):
        raise SuperJSONError(f"object keys must be str, not {type(key).__name__}")
    if key in _FORBIDDEN_KEYS:
        raise SuperJSONError(f"key {key!r} is refused by superjson (prototype pollution risk)")


def _format_date(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise SuperJSONError(f"naive datetime {value.isoformat()} has no timezone; use a tz-aware datetime")
    utc = value.astimezone(timezone.utc).replace(tzinfo=None)
    return utc.isoformat(timespec="milliseconds") + "Z"


def _escape_key(key: str) -> str:
    return key.replace("\\", "\\\\").replace(".", "\\.")


# ------------------------------------------------------------------------- deserialize


def deserialize(payload: Any) -> Any:
    """Rebuild a Python value from a superjson payload; raise `SuperJSONError` when malformed."""
    if not isinstance(payload, Mapping):
        raise SuperJSONError("a superjson payload must be an object")
    value = copy.deepcopy(payload.get("json"))
    meta = payload.get("meta")
    if meta is None:
        return value
    if not isinstance(meta, Mapping):
        raise SuperJSONError("superjson 'meta' must be an object")
    tree = meta.get("values")
    if tree is None:
        return value
    version = meta.get("v", 0)
    legacy = not (isinstance(version, (int, float)) and not isinstance(version, bool) and version >= 1)
    try:
        result = _apply(value, tree, legacy)
    except SuperJSONError:
        raise
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise SuperJSONError(f"superjson annotations do not match the value: {exc}") from exc
    return None if result is _UNDEFINED else result


def _apply(value: Any, tree: Any, legacy: bool) -> Any:
    """Apply a (minimised) annotation tree: children first, then the node's own type."""
    if isinstance(tree, Mapping):
        return _apply_children(value, tree, legacy)
    if not isinstance(tree, list) or not 1 <= len(tree) <= 2:
        raise SuperJSONError(f"malformed superjson annotation {tree!r}")
    if len(tree) == 2 and tree[1]:
        if not isinstance(tree[1], Mapping):
            raise SuperJSONError(f"malformed superjson annotation {tree!r}")
        value = _apply_children(value, tree[1], legacy)
    return _untransform(value, tree[0])


def _apply_children(value: Any, children: Mapping[str, Any], legacy: bool) -> Any:
    for key, subtree in children.items():
        value = _apply_at(value, _parse_path(key, legacy), subtree, legacy)
    return value


def _apply_at(container: Any, path: list[str], subtree: Any, legacy: bool) -> Any:
    if not path:
        return _apply(container, subtree, legacy)
    key, rest = path[0], path[1:]
    if isinstance(container, list):
        if not (key.isascii() and key.isdigit()) or int(key) >= len(container):
            raise SuperJSONError(f"superjson path segment {key!r} is not an index of the array")
        new = _apply_at(container[int(key)], rest, subtree, legacy)
        container[int(key)] = None if new is _UNDEFINED else new
    elif isinstance(container, dict):
        if key not in container:
            raise SuperJSONError(f"superjson path segment {key!r} is not a key of the object")
        new = _apply_at(container[key], rest, subtree, legacy)
        if new is _UNDEFINED:
            del container[key]
        else:
            container[key] = new
    else:
        raise SuperJSONError(f"superjson path segment {key!r} leads into a non-container")
    return container


def _parse_path(path: str, legacy: bool) -> list[str]:
    """Split a stringified path; ``\\.`` is a literal dot and (unless legacy) ``\\\\`` a backslash."""
    segments: list[str] = []
    segment: list[str] = []
    i = 0
    while i < len(path):
        char, following = path[i], path[i + 1 : i + 2]
        if char == "\\" and (following == "." or (following == "\\" and not legacy)):
            segment.append(following)
            i += 2
            continue
        if char == "\\" and not legacy:
            raise SuperJSONError(f"invalid superjson path {path!r}")
        if char == ".":
            segments.append("".join(segment))
            segment = []
        else:
            segment.append(char)
        i += 1
    segments.append("".join(segment))
    if _FORBIDDEN_KEYS.intersection(segments):
        raise SuperJSONError(f"superjson path {path!r} names a forbidden property")
    return segments


def _untransform(value: Any, kind: Any) -> Any:
    if kind == "undefined":
        return _UNDEFINED
    if kind == "Date":
        return _parse_date(value)
    if kind == "bigint" and isinstance(value, str) and _BIGINT.fullmatch(value):
        return int(value)
    if kind == "number":
        if isinstance(value, str) and value in _SPECIAL_NUMBERS:
            return _SPECIAL_NUMBERS[value]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    if kind == "set" and isinstance(value, list):
        try:
            return set(value)
        except TypeError as exc:
            raise SuperJSONError("Set members must be primitive values") from exc
    if kind == "map" and isinstance(value, list) and all(isinstance(e, list) and len(e) == 2 for e in value):
        try:
            return {k: v for k, v in value}
        except TypeError as exc:
            raise SuperJSONError("Map keys must be primitive values") from exc
    raise SuperJSONError(f"unsupported superjson value {value!r} annotated as {kind!r}")


def _parse_date(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.astimezone(timezone.utc)
    raise SuperJSONError(f"invalid superjson Date {value!r}")
