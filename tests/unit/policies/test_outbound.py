from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import attrs
import pytest

from commsinbox.domain.model.channels import Channel, Provider
from commsinbox.domain.model.consent import ConsentRecord, ConsentStatus, Purpose
from commsinbox.domain.model.templates import Template, TemplateCategory, TemplateStatus
from commsinbox.domain.model.values import QuietHours
from commsinbox.domain.policies.decision import (
    CONSENT_MISSING,
    HUMAN_AGENT_TAG,
    OPTED_OUT,
    QUIET_HOURS,
    TEMPLATE_NOT_APPROVED,
    TEMPLATE_VARIABLES_MISMATCH,
    WINDOW_CLOSED,
    WINDOW_CLOSED_TEMPLATE_REQUIRED,
    WINDOW_HUMAN_AGENT_REQUIRED,
    Allowed,
    Blocked,
    Deferred,
)
from commsinbox.domain.policies.outbound import SendContext, decide

pytestmark = pytest.mark.unit

SAO_PAULO, TOKYO = ZoneInfo("America/Sao_Paulo"), ZoneInfo("Asia/Tokyo")
DAY = dt.datetime(2026, 6, 1, 15, 0, tzinfo=dt.UTC)  # 12:00 in São Paulo
NIGHT = dt.datetime(2026, 6, 2, 2, 0, tzinfo=dt.UTC)  # 23:00 in São Paulo
MORNING = dt.datetime(2026, 6, 2, 11, 0, tzinfo=dt.UTC)  # 08:00 on 2 June in São Paulo
H, D = dt.timedelta(hours=1), dt.timedelta(days=1)


def template(category: TemplateCategory = TemplateCategory.UTILITY,
             status: TemplateStatus = TemplateStatus.APPROVED) -> Template:
    return Template.create("t1", "acc1", "order_shipped", "pt_BR", category, "Oi {{1}}, pedido {{2}}", DAY,
                           status=status, provider_template_id="123")


def consent(status: ConsentStatus, channel: Channel = Channel.WHATSAPP) -> ConsentRecord:
    return ConsentRecord("c1", channel, status, "form", DAY - 30 * D)


def ctx(**changes: object) -> SendContext:
    base = SendContext(now=DAY, provider=Provider.WHATSAPP_META, purpose=Purpose.REPLY, account_id="acc1",
                       consent=None, last_inbound_at=DAY - H, quiet_hours=QuietHours.parse("21:00-08:00"),
                       team_tz=SAO_PAULO)
    return attrs.evolve(base, **changes)  # type: ignore[arg-type]


VARS = ("Ana", "#42")


def test_a_reply_inside_the_window_in_the_day_goes() -> None:
    assert decide(ctx()) == Allowed()


@pytest.mark.parametrize("changes, expected", [
    # 1. template first: even an opted-out contact gets the template's reason
    ({"template": template(status=TemplateStatus.PAUSED), "variables": VARS,
      "consent": consent(ConsentStatus.OPTED_OUT)}, Blocked(TEMPLATE_NOT_APPROVED)),
    ({"template": template(), "variables": ("Ana",), "consent": consent(ConsentStatus.OPTED_OUT)},
     Blocked(TEMPLATE_VARIABLES_MISMATCH)),
    # 2. consent before the window
    ({"consent": consent(ConsentStatus.OPTED_OUT), "last_inbound_at": DAY - 3 * D}, Blocked(OPTED_OUT)),
    ({"purpose": Purpose.MARKETING, "last_inbound_at": None}, Blocked(CONSENT_MISSING)),
    # 3. the window before quiet hours: a blocked message is not deferred
    ({"now": NIGHT, "last_inbound_at": NIGHT - 25 * H}, Blocked(WINDOW_CLOSED_TEMPLATE_REQUIRED)),
    ({"now": NIGHT, "provider": Provider.INSTAGRAM_META, "last_inbound_at": NIGHT - 8 * D,
      "human_agent": True}, Blocked(WINDOW_CLOSED)),
])
def test_the_first_blocked_rule_in_order_wins(changes: dict[str, object], expected: object) -> None:
    assert decide(ctx(**changes)) == expected


def test_deferred_only_when_nothing_blocks() -> None:
    campaign = ctx(now=NIGHT, purpose=Purpose.MARKETING, consent=consent(ConsentStatus.OPTED_IN),
                   template=template(TemplateCategory.MARKETING), variables=VARS, last_inbound_at=None)
    assert decide(campaign) == Deferred(MORNING, QUIET_HOURS)
    assert decide(attrs.evolve(campaign, now=DAY)) == Allowed()
    assert decide(attrs.evolve(campaign, consent=None)) == Blocked(CONSENT_MISSING)


def test_a_utility_template_outside_the_window_to_a_contact_who_wrote() -> None:
    notice = ctx(purpose=Purpose.UTILITY, template=template(), variables=VARS, last_inbound_at=DAY - 3 * D)
    assert decide(notice) == Allowed()
    assert decide(attrs.evolve(notice, template=None, variables=())) == Blocked(WINDOW_CLOSED_TEMPLATE_REQUIRED)
    assert decide(attrs.evolve(notice, last_inbound_at=None)) == Blocked(CONSENT_MISSING)


def test_a_marketing_template_needs_an_opt_in_whatever_the_purpose() -> None:
    sneaky = ctx(purpose=Purpose.REPLY, template=template(TemplateCategory.MARKETING), variables=VARS)
    assert decide(sneaky) == Blocked(CONSENT_MISSING)
    assert decide(attrs.evolve(sneaky, consent=consent(ConsentStatus.OPTED_IN))) == Allowed()


def test_instagram_human_agent_after_a_day_gets_the_tag() -> None:
    agent = ctx(provider=Provider.INSTAGRAM_META, human_agent=True, last_inbound_at=DAY - 6 * D)
    assert decide(agent) == Allowed(tag=HUMAN_AGENT_TAG)
    assert decide(attrs.evolve(agent, human_agent=False)) == Blocked(WINDOW_HUMAN_AGENT_REQUIRED)
    assert decide(attrs.evolve(agent, last_inbound_at=DAY - H)) == Allowed()
    assert decide(attrs.evolve(agent, now=NIGHT, last_inbound_at=NIGHT - 6 * D)) == Deferred(MORNING, QUIET_HOURS)


@pytest.mark.parametrize("inbound_ago, expected", [
    (dt.timedelta(minutes=10), Allowed()), (2 * H, Deferred(MORNING, QUIET_HOURS)),
])
def test_a_reply_at_night_goes_within_the_grace(inbound_ago: dt.timedelta, expected: object) -> None:
    reply = ctx(now=NIGHT, last_inbound_at=NIGHT - inbound_ago, reply_grace=dt.timedelta(minutes=30))
    assert decide(reply) == expected
    assert decide(attrs.evolve(reply, purpose=Purpose.UTILITY)) == Deferred(MORNING, QUIET_HOURS)


def test_quiet_hours_follow_the_contact_time_zone_when_known() -> None:
    tokyo_night = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)  # 21:00 in Tokyo, 09:00 in São Paulo
    notice = ctx(now=tokyo_night, purpose=Purpose.UTILITY, last_inbound_at=tokyo_night - H)
    assert decide(notice) == Allowed()
    assert decide(attrs.evolve(notice, contact_tz=TOKYO)) == Deferred(
        dt.datetime(2026, 5, 1, 23, 0, tzinfo=dt.UTC), QUIET_HOURS)


def test_no_quiet_hours_and_baileys() -> None:
    assert decide(ctx(now=NIGHT, purpose=Purpose.UTILITY, quiet_hours=None)) == Allowed()
    baileys = ctx(provider=Provider.WHATSAPP_BAILEYS, last_inbound_at=None, purpose=Purpose.UTILITY,
                  consent=consent(ConsentStatus.OPTED_IN))
    assert decide(baileys) == Allowed()  # no window
    assert decide(attrs.evolve(baileys, consent=None)) == Blocked(CONSENT_MISSING)


@pytest.mark.parametrize("changes, expected", [
    ({}, Allowed()),
    ({"language": "pt_BR"}, Allowed()),
    ({"language": "en"}, Blocked(TEMPLATE_NOT_APPROVED)),
    ({"account_id": "acc2"}, Blocked(TEMPLATE_NOT_APPROVED)),
    ({"variables": ("Ana", " ")}, Blocked(TEMPLATE_VARIABLES_MISMATCH)),
])
def test_template_language_account_and_variables(changes: dict[str, object], expected: object) -> None:
    assert decide(ctx(**{"template": template(), "variables": VARS, **changes})) == expected


def test_caller_errors_raise() -> None:
    with pytest.raises(ValueError, match="consent record"):
        decide(ctx(consent=consent(ConsentStatus.OPTED_IN, Channel.INSTAGRAM)))
    with pytest.raises(TypeError):
        ctx(variables="Ana")
    assert ctx(variables=["Ana", "#42"]).variables == VARS  # any sequence becomes a tuple
