from __future__ import annotations

import datetime
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from commsinbox.entrypoints import logging_setup
from commsinbox.entrypoints.config import MASK, Secret
from commsinbox.entrypoints.logging_setup import configure_logging, install_secret_filter, redact

pytestmark = pytest.mark.unit

log = logging.getLogger("commsinbox.tests.logging")


class JsonLog:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines()]


@pytest.fixture
def json_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[JsonLog]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    monkeypatch.setattr(logging_setup, "_known_secrets", set())
    captured = JsonLog()
    configure_logging("DEBUG", stream=captured.stream)
    yield captured
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def test_one_json_object_per_line(json_log: JsonLog) -> None:
    log.info("hello %s, you have %d messages", "Ana", 3)
    log.warning("second\nline")

    first, second = json_log.lines()
    assert set(first) == {"ts", "level", "logger", "msg"}
    assert first["level"] == "INFO"
    assert first["logger"] == "commsinbox.tests.logging"
    assert first["msg"] == "hello Ana, you have 3 messages"
    ts = datetime.datetime.fromisoformat(first["ts"])
    assert ts.utcoffset() == datetime.timedelta(0)
    assert abs(datetime.datetime.now(datetime.UTC) - ts) < datetime.timedelta(minutes=1)
    assert second["msg"] == "second\nline"
    assert second["level"] == "WARNING"


def test_extra_fields_are_carried(json_log: JsonLog) -> None:
    log.info("sent", extra={"conversation_id": "c-1", "attempt": 2, "meta": {"channel": "wa"}})
    (line,) = json_log.lines()
    assert line["conversation_id"] == "c-1"
    assert line["attempt"] == 2
    assert line["meta"] == {"channel": "wa"}


def test_extra_cannot_overwrite_core_fields(json_log: JsonLog) -> None:
    log.info("real", extra={"level": "fake", "ts": "fake"})
    (line,) = json_log.lines()
    assert line["level"] == "INFO"
    assert line["extra_level"] == "fake"
    assert line["ts"] != "fake"


def test_non_json_extras_are_stringified(json_log: JsonLog) -> None:
    when = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC)
    log.info("x", extra={"when": when, "obj": object()})
    (line,) = json_log.lines()
    assert line["when"] == "2024-05-01T12:00:00+00:00"
    assert line["obj"].startswith("<object object")


def test_secret_as_argument_is_masked(json_log: JsonLog) -> None:
    token = Secret("argument-secret-value")
    log.info("token %s and %r", token, token)
    (line,) = json_log.lines()
    assert "argument-secret-value" not in json_log.text
    assert line["msg"] == f"token {MASK} and Secret('{MASK}')"


def test_secret_in_extra_is_masked(json_log: JsonLog) -> None:
    nested = {"inner": [Secret("extra-secret-two")]}
    log.info("x", extra={"db": Secret("extra-secret-one"), "nested": nested})
    (line,) = json_log.lines()
    assert "extra-secret" not in json_log.text
    assert line["db"] == MASK
    assert line["nested"] == {"inner": [MASK]}


@pytest.mark.parametrize(
    "key",
    ["password", "Authorization", "set_cookie", "api_key", "apikey", "X-API-KEY", "aws_access_key",
     "credentials", "refresh_token", "client_secret", "DB_PASSWORD"],
)
def test_sensitive_keys_are_masked(json_log: JsonLog, key: str) -> None:
    headers = {key: "nested-value-456", "accept": "json"}
    log.info("x", extra={key: "plain-value-123", "headers": headers})
    (line,) = json_log.lines()
    assert "plain-value-123" not in json_log.text
    assert "nested-value-456" not in json_log.text
    assert line[key] == MASK
    assert line["headers"] == {key: MASK, "accept": "json"}


def test_sensitive_keys_in_dict_arguments_are_masked(json_log: JsonLog) -> None:
    log.info("login %(user)s %(password)s", {"user": "ana", "password": "dict-arg-pass"})
    log.info("payload %s", {"token": "payload-token", "ok": True})
    first, second = json_log.lines()
    assert first["msg"] == f"login ana {MASK}"
    assert "payload-token" not in json_log.text
    assert MASK in second["msg"]


def test_known_secret_is_cut_from_message_extra_and_traceback(json_log: JsonLog) -> None:
    install_secret_filter(["raw-secret-value", Secret("another-secret"), "short"])
    log.info("connecting with raw-secret-value", extra={"url": "postgres://u:another-secret@h/db"})
    try:
        raise RuntimeError("auth failed for raw-secret-value")
    except RuntimeError:
        log.exception("boom")
    log.info("a short note")

    info, error, note = json_log.lines()
    assert note["msg"] == "a short note"  # values under 6 characters are not filtered
    assert "raw-secret-value" not in json_log.text
    assert "another-secret" not in json_log.text
    assert info["msg"] == f"connecting with {MASK}"
    assert info["url"] == f"postgres://u:{MASK}@h/db"
    assert "Traceback" in error["exc"]
    assert f"RuntimeError: auth failed for {MASK}" in error["exc"]


def test_secret_object_inside_exception_message_stays_hidden(json_log: JsonLog) -> None:
    secret = Secret("exception-secret-value")
    try:
        raise ValueError(f"bad credentials {secret}")
    except ValueError:
        log.error("failed", exc_info=True)
    assert "exception-secret-value" not in json_log.text
    assert MASK in json_log.lines()[0]["exc"]


def test_secret_needing_json_escapes_is_still_cut(json_log: JsonLog) -> None:
    tricky = 'pa"ss\\wörd'
    install_secret_filter([tricky])
    log.info("value=%s", tricky, extra={"note": f"x{tricky}y"})
    (line,) = json_log.lines()
    assert tricky not in json_log.text
    assert json.dumps(tricky)[1:-1] not in json_log.text
    assert line["msg"] == f"value={MASK}"
    assert line["note"] == f"x{MASK}y"


def test_mismatched_arguments_still_produce_a_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # Formatter used directly: pytest's own capture handler would raise on this record.
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "two %s %s", ("one-secret-arg",), None
    )
    monkeypatch.setattr(logging_setup, "_known_secrets", set())
    install_secret_filter(["one-secret-arg"])
    line = json.loads(logging_setup.JsonFormatter().format(record))
    assert line["msg"].startswith("two %s %s")
    assert "one-secret-arg" not in json.dumps(line)


def test_redact_replaces_longest_first_and_skips_short_values() -> None:
    text = "a=secret1 b=secret1-longer c=abc"
    assert redact(text, ["secret1", "secret1-longer", "abc"]) == f"a={MASK} b={MASK} c=abc"
    assert redact("nothing here", []) == "nothing here"


def test_configure_is_idempotent(json_log: JsonLog) -> None:
    second = io.StringIO()
    configure_logging("INFO", stream=second)
    configure_logging("INFO", stream=second)

    ours = [h for h in logging.getLogger().handlers if isinstance(h, logging_setup._JsonHandler)]
    assert len(ours) == 1
    log.info("once")
    log.debug("filtered out at INFO")
    assert [json.loads(line)["msg"] for line in second.getvalue().splitlines()] == ["once"]
    assert json_log.text == ""


def test_configure_rejects_unknown_level(json_log: JsonLog) -> None:
    with pytest.raises(ValueError):
        configure_logging("LOUD")
