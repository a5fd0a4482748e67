"""A contact's time zone from the numbering plan: only when the number's prefix lies in exactly one zone."""
from __future__ import annotations

import pytest

from commsinbox.adapters.timezones import NumberingPlanTimezones


@pytest.mark.parametrize(("phone", "zone"), [
    ("+5511987650001", "America/Sao_Paulo"),
    ("+14155550101", "America/Los_Angeles"),
    ("+12125550101", "America/New_York"),
    ("+447700900123", None),  # a UK mobile: the plan places it nowhere in particular
    ("+61412345678", None),  # an Australian mobile: several zones
    ("not a number", None),
])
def test_the_zone_of_a_number(phone: str, zone: str | None) -> None:
    assert NumberingPlanTimezones().zone_of(phone) == zone
