"""A template's status follows the provider's review events (Meta's message_template_status_update)."""
from __future__ import annotations

import datetime as dt

import pytest

from commsinbox.domain.model.templates import Template, TemplateCategory, TemplateStatus

T0 = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
LATER = T0 + dt.timedelta(hours=1)


def pending() -> Template:
    return Template.create("t1", "acc1", "order_shipped", "en_US", TemplateCategory.UTILITY, "Hi {{1}}", T0,
                           status=TemplateStatus.PENDING, provider_template_id="1234")


@pytest.mark.parametrize(("event", "status"), [
    ("APPROVED", TemplateStatus.APPROVED), ("REINSTATED", TemplateStatus.APPROVED), ("UNPAUSE", TemplateStatus.APPROVED),
    ("REJECTED", TemplateStatus.REJECTED), ("PAUSED", TemplateStatus.PAUSED), ("DISABLED", TemplateStatus.DISABLED),
    ("DELETED", TemplateStatus.DISABLED), ("IN_APPEAL", TemplateStatus.PENDING), ("approved", TemplateStatus.APPROVED)])
def test_each_review_event_sets_its_status(event: str, status: TemplateStatus) -> None:
    template = pending()
    assert template.provider_says(event, None, LATER) is (status is not TemplateStatus.PENDING)
    assert template.status is status


def test_a_rejection_keeps_its_reason_until_the_template_is_approved() -> None:
    template = pending()
    assert template.provider_says("REJECTED", "PROMOTIONAL", LATER)
    assert (template.status, template.rejection_reason, template.updated_at, template.version) == (
        TemplateStatus.REJECTED, "PROMOTIONAL", LATER, 2)
    assert not template.provider_says("REJECTED", "PROMOTIONAL", LATER)  # a replay changes nothing
    assert template.provider_says("APPROVED", "NONE", LATER)
    assert (template.status, template.rejection_reason, template.version) == (TemplateStatus.APPROVED, None, 3)


@pytest.mark.parametrize("event", ["FLAGGED", "LIMIT_EXCEEDED", "LOCKED", "SOMETHING_NEW"])
def test_events_that_do_not_change_what_may_be_sent_leave_the_template_alone(event: str) -> None:
    template = pending()
    assert not template.provider_says(event, None, LATER)
    assert (template.status, template.version, template.updated_at) == (TemplateStatus.PENDING, 1, T0)
