from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from commsinbox.domain.model import values
from commsinbox.domain.model.errors import InvalidInput
from commsinbox.domain.model.paging import Cursor, PageRequest
from commsinbox.domain.model.vault import vault_path

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text, crosses", [("21:00-08:00", True), ("00:00-06:30", False), ("23:59-00:00", True)])
def test_quiet_hours_parse_and_print(text: str, crosses: bool) -> None:
    hours = values.QuietHours.parse(text)
    assert (str(hours), hours.crosses_midnight) == (text, crosses)


@pytest.mark.parametrize("text", ["21:00", "24:00-08:00", "21:00-21:00", "9:00-17:00", "21:00-08:00-09:00", ""])
def test_quiet_hours_refuse_bad_text(text: str) -> None:
    with pytest.raises(InvalidInput) as bad:
        values.QuietHours.parse(text)
    assert bad.value.fields[0].path == "quietHours"


def test_currency_timezone_email_amount() -> None:
    assert values.currency("BRL") == "BRL"
    assert values.timezone("America/Sao_Paulo") == "America/Sao_Paulo"
    assert values.email("  Ana@Example.COM ") == "ana@example.com"
    assert values.amount("10.5000") == Decimal("10.5")
    for call, arg in ((values.currency, "brl"), (values.timezone, "Nowhere/City"), (values.email, "ana@"),
                      (values.amount, "1e400"), (values.amount, "0.00001"), (values.amount, "NaN")):
        with pytest.raises(InvalidInput):
            call(arg)  # type: ignore[operator]


def test_cursor_round_trip_and_garbage() -> None:
    cursor = Cursor(dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC), "abc")
    assert Cursor.decode(cursor.encode()) == cursor
    for garbage in ("not-base64!", "bm8gYmFy", Cursor(dt.datetime(2026, 1, 1), "x").encode()):
        with pytest.raises(InvalidInput):
            Cursor.decode(garbage)
    with pytest.raises(InvalidInput):
        PageRequest.of(None, 201)
    assert PageRequest.of(None, None).limit == 50


@pytest.mark.parametrize("path", ["../x", "a/../b", "/etc/passwd/..", "a//b", ".hidden", "a b", "x" * 600])
def test_vault_paths_stay_inside_the_team(path: str) -> None:
    with pytest.raises(InvalidInput):
        vault_path(path)


def test_vault_path_normalises_slashes() -> None:
    assert vault_path("/inbox/receipt-1.pdf/") == "inbox/receipt-1.pdf"
