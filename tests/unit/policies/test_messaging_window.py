from __future__ import annotations

import datetime as dt

import pytest

from commsinbox.domain.model.channels import Provider
from commsinbox.domain.policies.decision import (
    HUMAN_AGENT_TAG,
    WINDOW_CLOSED,
    WINDOW_CLOSED_TEMPLATE_REQUIRED,
    WINDOW_HUMAN_AGENT_REQUIRED,
    Allowed,
    Blocked,
)
from commsinbox.domain.policies.messaging_window import (
    WindowState,
    needs_human_agent_tag,
    window_closes_at,
    window_decision,
    window_state,
)

pytestmark = pytest.mark.unit

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
H, D = dt.timedelta(hours=1), dt.timedelta(days=1)
MIN, US = dt.timedelta(minutes=1), dt.timedelta(microseconds=1)
WHATSAPP = [Provider.WHATSAPP_META, Provider.WHATSAPP_TWILIO]


@pytest.mark.parametrize("provider", WHATSAPP)
@pytest.mark.parametrize("ago, state", [
    (dt.timedelta(0), WindowState.OPEN),
    (23 * H + 59 * MIN, WindowState.OPEN),
    (24 * H - US, WindowState.OPEN),
    (24 * H, WindowState.CLOSED),  # the exact boundary is closed
    (24 * H + MIN, WindowState.CLOSED),
    (30 * D, WindowState.CLOSED),
])
@pytest.mark.parametrize("human_agent", [True, False])
def test_whatsapp_24_hour_window(provider: Provider, ago: dt.timedelta, state: WindowState, human_agent: bool) -> None:
    assert window_state(provider, NOW - ago, NOW, human_agent) is state


@pytest.mark.parametrize("ago, human_agent, state", [
    (23 * H + 59 * MIN, False, WindowState.OPEN),
    (23 * H + 59 * MIN, True, WindowState.OPEN),
    (24 * H, True, WindowState.HUMAN_AGENT_ONLY),
    (24 * H, False, WindowState.CLOSED),
    (6 * D, True, WindowState.HUMAN_AGENT_ONLY),
    (6 * D, False, WindowState.CLOSED),
    (7 * D - US, True, WindowState.HUMAN_AGENT_ONLY),
    (7 * D, True, WindowState.CLOSED),
    (8 * D, True, WindowState.CLOSED),
    (8 * D, False, WindowState.CLOSED),
])
def test_instagram_24_hours_then_7_days_for_a_human_agent(ago: dt.timedelta, human_agent: bool,
                                                           state: WindowState) -> None:
    assert window_state(Provider.INSTAGRAM_META, NOW - ago, NOW, human_agent) is state
    assert needs_human_agent_tag(state) is (state is WindowState.HUMAN_AGENT_ONLY)


@pytest.mark.parametrize("ago", [None, dt.timedelta(0), 400 * D])
def test_baileys_has_no_window(ago: dt.timedelta | None) -> None:
    last = None if ago is None else NOW - ago
    assert window_state(Provider.WHATSAPP_BAILEYS, last, NOW, False) is WindowState.NONE
    assert window_decision(Provider.WHATSAPP_BAILEYS, last, NOW, False, False, False) == Allowed()


@pytest.mark.parametrize("provider", [Provider.WHATSAPP_META, Provider.WHATSAPP_TWILIO, Provider.INSTAGRAM_META])
def test_a_contact_who_never_wrote_has_no_open_window(provider: Provider) -> None:
    assert window_state(provider, None, NOW, True) is WindowState.CLOSED


@pytest.mark.parametrize("provider", WHATSAPP)
@pytest.mark.parametrize("ago, is_template, approved, expected", [
    (23 * H + 59 * MIN, False, False, Allowed()),
    (23 * H + 59 * MIN, True, True, Allowed()),
    (24 * H + MIN, False, False, Blocked(WINDOW_CLOSED_TEMPLATE_REQUIRED)),
    (24 * H + MIN, True, False, Blocked(WINDOW_CLOSED_TEMPLATE_REQUIRED)),  # a template, but not approved
    (24 * H + MIN, True, True, Allowed()),
    (24 * H, False, False, Blocked(WINDOW_CLOSED_TEMPLATE_REQUIRED)),
    (None, False, False, Blocked(WINDOW_CLOSED_TEMPLATE_REQUIRED)),
    (None, True, True, Allowed()),
])
def test_whatsapp_outside_the_window_only_an_approved_template(provider: Provider, ago: dt.timedelta | None,
                                                               is_template: bool, approved: bool,
                                                               expected: object) -> None:
    last = None if ago is None else NOW - ago
    assert window_decision(provider, last, NOW, True, is_template, approved) == expected


@pytest.mark.parametrize("ago, human_agent, expected", [
    (23 * H, False, Allowed()),
    (23 * H, True, Allowed()),  # inside 24 h no tag is needed
    (6 * D, True, Allowed(tag=HUMAN_AGENT_TAG)),
    (6 * D, False, Blocked(WINDOW_HUMAN_AGENT_REQUIRED)),
    (8 * D, True, Blocked(WINDOW_CLOSED)),
    (8 * D, False, Blocked(WINDOW_CLOSED)),
    (None, True, Blocked(WINDOW_CLOSED)),
])
@pytest.mark.parametrize("is_template", [False, True])  # Instagram has no templates: one changes nothing
def test_instagram_decision(ago: dt.timedelta | None, human_agent: bool, expected: object, is_template: bool) -> None:
    last = None if ago is None else NOW - ago
    assert window_decision(Provider.INSTAGRAM_META, last, NOW, human_agent, is_template, is_template) == expected


def test_window_closes_at() -> None:
    last = NOW - 2 * H
    assert window_closes_at(Provider.WHATSAPP_META, last, True) == last + 24 * H
    assert window_closes_at(Provider.INSTAGRAM_META, last, False) == last + 24 * H
    assert window_closes_at(Provider.INSTAGRAM_META, last, True) == last + 7 * D
    assert window_closes_at(Provider.WHATSAPP_BAILEYS, last, True) is None
    assert window_closes_at(Provider.WHATSAPP_TWILIO, None, True) is None
    closes = window_closes_at(Provider.WHATSAPP_TWILIO, last, False)
    assert closes is not None
    assert window_state(Provider.WHATSAPP_TWILIO, last, closes - US, False) is WindowState.OPEN
    assert window_state(Provider.WHATSAPP_TWILIO, last, closes, False) is WindowState.CLOSED
