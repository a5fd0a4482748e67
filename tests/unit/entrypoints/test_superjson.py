"""superjson wire format.

Known answers are re-typed from the npm package's own suite (github.com/flightcontrolhq/superjson,
v2.2.5: ``src/index.test.ts`` and ``src/pathstringifier.test.ts``); each case names its source
test. Its expectations leave out ``meta.v``, which ``serialize`` always sets to 1 there.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from commsinbox.entrypoints.web.superjson import SuperJSONError, deserialize, serialize

pytestmark = pytest.mark.unit

UTC = timezone.utc


def _payload(json_value: Any, values: Any = None, **meta: Any) -> dict[str, Any]:
    if values is not None:
        meta["values"] = values
    return {"json": json_value, "meta": meta} if meta else {"json": json_value}


# (source test name, python value, expected json, expected meta.values or None)
SERIALIZE_CASES = [
    ("works for objects", {"a": {"1": 5, "2": {"3": "c"}}, "b": None}, {"a": {"1": 5, "2": {"3": "c"}}, "b": None}, None),
    ("works for paths containing dots", {"a.1": {"b": {1, 2}}}, {"a.1": {"b": [1, 2]}}, {"a\\.1.b": ["set"]}),
    (
        "works for paths containing backslashes",
        {"a\\.1": {"b": {1, 2}}},
        {"a\\.1": {"b": [1, 2]}},
        {"a\\\\\\.1.b": ["set"]},
    ),
    (
        "works for dates",
        {"meeting": {"date": datetime(2020, 2, 1, tzinfo=UTC)}},
        {"meeting": {"date": "2020-02-01T00:00:00.000Z"}},
        {"meeting.date": ["Date"]},
    ),
    ("works for Infinity", {"a": math.inf}, {"a": "Infinity"}, {"a": ["number"]}),
    ("works for -Infinity", {"a": -math.inf}, {"a": "-Infinity"}, {"a": ["number"]}),
    ("works for NaN", {"a": math.nan}, {"a": "NaN"}, {"a": ["number"]}),
    ("works for unknown", {"name": "@ftonato", "age": 1}, {"name": "@ftonato", "age": 1}, None),
    ("works for top-level Sets (without undefined)", {1, 2}, [1, 2], ["set"]),
    # 'repro #310: meta path escape bug', with Date standing in for the RegExp values.
    (
        "repro #310: meta path escape bug",
        {"a": ["x"], "a.0": datetime(2020, 1, 1, tzinfo=UTC), "b.0": "y", "b\\": [datetime(2020, 1, 1, tzinfo=UTC)]},
        {"a": ["x"], "a.0": "2020-01-01T00:00:00.000Z", "b.0": "y", "b\\": ["2020-01-01T00:00:00.000Z"]},
        {"a\\.0": ["Date"], "b\\\\.0": ["Date"]},
    ),
    ("regression #95: no undefined", [], [], None),
    ("regression #83: negative zero", -0.0, "-0", ["number"]),
]


@pytest.mark.parametrize(("name", "value", "expected_json", "expected_values"), SERIALIZE_CASES)
def test_serialize_known_answers(name: str, value: Any, expected_json: Any, expected_values: Any) -> None:
    result = serialize(value)

    assert result["json"] == expected_json
    if expected_values is None:
        assert "meta" not in result
    else:
        assert result["meta"] == {"values": expected_values, "v": 1}


def test_serialize_negative_zero_stringifies_exactly_like_superjson() -> None:
    # 'regression #83: negative zero' inline snapshot
    text = json.dumps(serialize(-0.0), separators=(",", ":"))
    assert text == '{"json":"-0","meta":{"values":["number"],"v":1}}'


def test_serialize_shared_objects_are_spelled_out_without_identity_meta() -> None:
    # 'preserves object identity': same json; referentialEqualities is not emitted by us.
    a = {"id": "a"}
    result = serialize({"options": [a, {"id": "b"}], "selected": a})
    assert result == {"json": {"options": [{"id": "a"}, {"id": "b"}], "selected": {"id": "a"}}}


def test_serialize_set_annotations_nest_under_the_set_node() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678_901, tzinfo=UTC)
    result = serialize({"s": frozenset([moment]), "t": [{"when": moment}]})
    assert result == {
        "json": {"s": ["2026-01-02T03:04:05.678Z"], "t": [{"when": "2026-01-02T03:04:05.678Z"}]},
        "meta": {"values": {"s": ["set", {"0": ["Date"]}], "t.0.when": ["Date"]}, "v": 1},
    }


def test_serialize_dates_are_converted_to_utc_with_milliseconds() -> None:
    local = datetime(2026, 1, 2, 5, 4, 5, 678_000, tzinfo=timezone(timedelta(hours=2)))
    assert serialize(local) == {"json": "2026-01-02T03:04:05.678Z", "meta": {"values": ["Date"], "v": 1}}


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (datetime(2026, 1, 2), "naive datetime"),
        ({1: "x"}, "keys must be str"),
        ({"__proto__": 1}, "prototype pollution"),
        (object(), "cannot serialize"),
    ],
)
def test_serialize_rejects_what_superjson_cannot_carry(value: Any, match: str) -> None:
    with pytest.raises(SuperJSONError, match=match):
        serialize(value)


def test_serialize_rejects_circular_structures() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(SuperJSONError, match="circular"):
        serialize(loop)


# (source test name, payload as sent by superjson, expected python value)
DESERIALIZE_CASES = [
    ("works for arrays", _payload({"a": [1, None, 2]}, {"a.1": ["undefined"]}), {"a": [1, None, 2]}),
    ("works for Sets", _payload({"a": [1, None, 2]}, {"a": ["set", {"1": ["undefined"]}]}), {"a": {1, None, 2}}),
    ("works for top-level Sets", _payload([1, None, 2], ["set", {"1": ["undefined"]}]), {1, None, 2}),
    ("works for paths containing dots", _payload({"a.1": {"b": [1, 2]}}, {"a\\.1.b": ["set"]}, v=1), {"a.1": {"b": {1, 2}}}),
    (
        "works for paths containing backslashes",
        _payload({"a\\.1": {"b": [1, 2]}}, {"a\\\\\\.1.b": ["set"]}, v=1),
        {"a\\.1": {"b": {1, 2}}},
    ),
    ("works for bigint", _payload({"a": "1021312312412312312313"}, {"a": ["bigint"]}), {"a": 1021312312412312312313}),
    ("regression #65: BigInt on Safari v13", _payload({"a": "1000"}, {"a": ["bigint"]}, v=1), {"a": 1000}),
    (
        "regression: Nested BigInt (babel-plugin-superjson-next #63)",
        _payload({"topics": [{"post_count": "22"}]}, {"topics.0.post_count": ["bigint"]}, v=1),
        {"topics": [{"post_count": 22}]},
    ),
    (
        "works for referentially equal maps",
        _payload({"a": [[1, 1]], "b": [[1, 1]]}, {"a": ["map"], "b": ["map"]}, referentialEqualities={"a": ["b"]}),
        {"a": {1: 1}, "b": {1: 1}},
    ),
    ("works for maps with non-uniform keys", _payload({"map": [[1, 1], ["1", 1]]}, {"map": ["map"]}), {"map": {1: 1, "1": 1}}),
    (
        "preserves object identity",
        _payload(
            {"options": [{"id": "a"}, {"id": "b"}], "selected": {"id": "a"}},
            referentialEqualities={"selected": ["options.0"]},
        ),
        {"options": [{"id": "a"}, {"id": "b"}], "selected": {"id": "a"}},
    ),
    (
        "works for self-referencing objects",
        _payload(
            {"role": "parent", "children": [{"role": "child", "parents": [None]}]},
            referentialEqualities=[["children.0.parents.0"]],
        ),
        {"role": "parent", "children": [{"role": "child", "parents": [None]}]},
    ),
    (
        "#310 fixes backwards compat (legacy paths, no v)",
        _payload({"a\\.1": {"b": [1, 2]}}, {"a\\\\.1.b": ["set"]}),
        {"a\\.1": {"b": {1, 2}}},
    ),
    ("#310 fixes backwards compat (dot)", _payload({"a.1": {"b": [1, 2]}}, {"a\\.1.b": ["set"]}), {"a.1": {"b": {1, 2}}}),
    # 'issue #58', without its Symbol entry: an undefined key disappears, Dates revive.
    (
        "issue #58",
        _payload(
            {"q": [9, {"henlo": None, "yee": "2020-02-01T00:00:00.000Z"}]},
            {"q.1.henlo": ["undefined"], "q.1.yee": ["Date"]},
            v=1,
        ),
        {"q": [9, {"yee": datetime(2020, 2, 1, tzinfo=UTC)}]},
    ),
    ("top-level undefined (what a client sends for no input)", _payload(None, ["undefined"], v=1), None),
    ("no meta at all", {"json": {"x": [1, "two"]}}, {"x": [1, "two"]}),
]


@pytest.mark.parametrize(("name", "payload", "expected"), DESERIALIZE_CASES)
def test_deserialize_known_answers(name: str, payload: dict[str, Any], expected: Any) -> None:
    assert deserialize(payload) == expected


def test_deserialize_maps_and_special_numbers() -> None:
    # 'works for Maps'
    payload = _payload(
        {"a": [[1, "a"], ["NaN", "b"]], "b": [["2", "b"]], "d": [[True, "true key"]]},
        {"a": ["map", {"1.0": ["number"]}], "b": ["map"], "d": ["map"]},
        v=1,
    )
    result = deserialize(payload)
    assert result["b"] == {"2": "b"}
    assert result["d"] == {True: "true key"}
    (one, nan) = result["a"].items()
    assert one == (1, "a")
    assert math.isnan(nan[0]) and nan[1] == "b"


@pytest.mark.parametrize(("text", "check"), [("Infinity", math.inf), ("-Infinity", -math.inf)])
def test_deserialize_infinities(text: str, check: float) -> None:
    assert deserialize(_payload({"a": text}, {"a": ["number"]}, v=1)) == {"a": check}


def test_deserialize_negative_zero() -> None:
    value = deserialize(_payload("-0", ["number"], v=1))
    assert value == 0 and math.copysign(1.0, value) == -1.0


def test_deserialize_date_is_tz_aware_utc() -> None:
    value = deserialize(_payload({"at": "2026-01-02T03:04:05.678Z"}, {"at": ["Date"]}, v=1))
    assert value == {"at": datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)}
    assert value["at"].utcoffset() == timedelta(0)


def test_deserialize_does_not_mutate_the_payload() -> None:
    payload = _payload({"at": "2026-01-02T03:04:05.678Z", "gone": None}, {"at": ["Date"], "gone": ["undefined"]}, v=1)
    snapshot = json.dumps(payload)
    deserialize(payload)
    assert json.dumps(payload) == snapshot


@pytest.mark.parametrize(
    "payload",
    [
        # 'works for Maps with a key that's referentially equal to another field': object keys
        _payload({"highscores": [[{"id": 5}, 5000]]}, {"highscores": ["map"]}, v=1),
        _payload({"a": "/hello/g"}, {"a": ["regexp"]}, v=1),  # 'works for regex': unsupported type
        _payload({"a": "not a date"}, {"a": ["Date"]}, v=1),
        _payload({"a": "2026-01-02T03:04:05"}, {"a": ["Date"]}, v=1),  # no offset: ambiguous
        _payload({"a": 1}, {"b": ["Date"]}, v=1),  # path not in json
        _payload({"a": [1]}, {"a.3": ["undefined"]}, v=1),
        _payload({"a": "12x"}, {"a": ["bigint"]}, v=1),
        _payload({"a": 1}, {"a": []}, v=1),
        # 'prototype pollution - __proto__' (superjson refuses such paths in meta)
        _payload({"myValue": 1337}, {"__proto__.x": ["undefined"]}, v=1),
        [1, 2],
        None,
        {"json": 1, "meta": "nope"},
    ],
)
def test_deserialize_rejects_malformed_payloads(payload: Any) -> None:
    with pytest.raises(SuperJSONError):
        deserialize(payload)


# src/pathstringifier.test.ts, parsePath cases, seen through a one-key Set annotation
@pytest.mark.parametrize(
    ("path", "legacy", "segments"),
    [
        ("test.a.b", True, ["test", "a", "b"]),
        ("test\\.a.b", True, ["test.a", "b"]),
        ("test\\\\.a.b", True, ["test\\.a", "b"]),
        ("test\\a.b", True, ["test\\a", "b"]),
        ("test\\\\a.b", True, ["test\\\\a", "b"]),
        ("test.a.b", False, ["test", "a", "b"]),
        ("test\\.a.b", False, ["test.a", "b"]),
        ("test\\\\.a.b", False, ["test\\", "a", "b"]),
        ("test\\\\a.b", False, ["test\\a", "b"]),
    ],
)
def test_paths_are_parsed_like_superjson(path: str, legacy: bool, segments: list[str]) -> None:
    plain: Any = [1]
    expected: Any = {1}
    for segment in reversed(segments):
        plain, expected = {segment: plain}, {segment: expected}
    meta = {"values": {path: ["set"]}} if legacy else {"values": {path: ["set"]}, "v": 1}
    assert deserialize({"json": plain, "meta": meta}) == expected


@pytest.mark.parametrize("path", ["test\\a.b", "foo.bar.baz\\"])
def test_invalid_escapes_are_rejected_in_current_paths(path: str) -> None:
    with pytest.raises(SuperJSONError):
        deserialize({"json": {}, "meta": {"values": {path: ["set"]}, "v": 1}})


ROUND_TRIPS = [
    {"when": datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC), "tags": {"a", "b"}, "n": [math.inf, 1.5, None]},
    {"dotted.key": {"back\\slash": [datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)]}, "empty": {}},
    [[], {}, "", 0, False, {"x": frozenset({3})}],
    datetime(2026, 1, 2, tzinfo=UTC),
    "plain",
]


@pytest.mark.parametrize("value", ROUND_TRIPS)
def test_round_trip_through_json_text(value: Any) -> None:
    wire = json.loads(json.dumps(serialize(value), allow_nan=False))
    assert deserialize(wire) == value
