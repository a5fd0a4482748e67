"""The API's edge: strict cattrs structuring of inputs (errors name the field path) and output views."""
from __future__ import annotations

import re
from typing import Any, TypeVar

import cattrs
from cattrs.preconf.json import make_converter

from ...domain.model.errors import FieldError, InvalidInput

T = TypeVar("T")

converter = make_converter(forbid_extra_keys=True)


def _strict(kind: type) -> None:
    def structure(value: Any, _: type) -> Any:
        if type(value) is not kind and not (kind is float and type(value) is int):
            raise TypeError(f"expected {kind.__name__}, got {_json_type(value)}")
        return value

    converter.register_structure_hook(kind, structure)


for _kind in (str, int, float, bool):
    _strict(_kind)


def _json_type(value: Any) -> str:
    return {type(None): "null", bool: "boolean", int: "number", float: "number", str: "string",
            list: "array", dict: "object"}.get(type(value), type(value).__name__)


_PATH = re.compile(r"^(?P<message>.*?) @ \$(?P<path>.*)$")
_EXTRA = re.compile(r"^extra fields found \((.*)\)$")


def parse(cls: type[T], raw: Any) -> T:
    """Structures `raw` into `cls` or raises InvalidInput naming every bad field (e.g. `items[0].name`)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidInput.single("input", f"must be an object, got {_json_type(raw)}")
    try:
        return converter.structure(raw, cls)
    except (cattrs.BaseValidationError, TypeError, ValueError) as exc:
        raise InvalidInput(_fields(exc)) from None


def _fields(exc: BaseException) -> list[FieldError]:
    if not isinstance(exc, cattrs.BaseValidationError):
        return [FieldError("input", str(exc))]
    fields = []
    for line in cattrs.transform_error(exc, path="$"):
        match = _PATH.match(line)
        if match is None:
            fields.append(FieldError("input", line))
            continue
        path = match.group("path").lstrip(".")
        message = match.group("message")
        extra = _EXTRA.match(message)
        if extra:
            fields += [FieldError(f"{path}.{name}".lstrip("."), "is not a known field")
                       for name in extra.group(1).split(", ")]
            continue
        fields.append(FieldError(path or "input", message.replace("required field missing", "is required")))
    return fields
