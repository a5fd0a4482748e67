"""The policy engine for one outbound message: `decide(ctx)` composes the rules in this order

1. template (when one is used): approved for this account and language, every variable supplied;
2. consent: opted out blocks everything; marketing needs an opt-in;
3. messaging window: WhatsApp 24 h (then templates only), Instagram 24 h / 7 d for a human agent;
4. quiet hours: business-initiated messages, and replies outside the reply grace, wait for the window's end.

The first Blocked wins; Deferred only when nothing blocks; otherwise Allowed, carrying the window's tag
(`HUMAN_AGENT`) when it has one. Rate caps are not decided here: the dispatch job applies them (`rate_caps.gcra`).

A Deferred message must be decided again when it comes due (with that moment's `now`, consent and last inbound):
the window may close and consent may change meanwhile.

A template of the marketing category counts as marketing for consent whatever `purpose` says: sending marketing
content through a "reply" must not bypass the opt-in.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import attrs

from ..model.channels import Provider
from ..model.consent import ConsentRecord, Purpose
from ..model.templates import Template, TemplateCategory
from ..model.values import QuietHours
from .consent import consent_decision
from .decision import Blocked, Decision, Deferred
from .messaging_window import window_decision
from .quiet_hours import quiet_hours_decision
from .templates import template_decision


def _variables(value: Sequence[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise TypeError("variables must be a sequence of strings, not one string")
    return tuple(value)


@attrs.frozen(kw_only=True)
class SendContext:
    """Everything the rules need about one message. Datetimes are aware (UTC)."""

    now: dt.datetime
    provider: Provider
    purpose: Purpose
    account_id: str
    consent: ConsentRecord | None  # the contact's latest record on the provider's channel
    last_inbound_at: dt.datetime | None  # the contact's last message to this account; None: never wrote
    quiet_hours: QuietHours | None  # the team's override, else QUIET_HOURS_DEFAULT; None: no quiet hours
    team_tz: ZoneInfo
    contact_tz: ZoneInfo | None = None
    human_agent: bool = False  # a person (not an automation or a campaign) is sending
    template: Template | None = None
    variables: tuple[str, ...] = attrs.field(default=(), converter=_variables)
    language: str | None = None  # the language asked for; None: the template's own
    reply_grace: dt.timedelta | None = None  # the team setting; None: replies get no grace in quiet hours

    @property
    def contact_wrote(self) -> bool:
        return self.last_inbound_at is not None

    @property
    def business_initiated(self) -> bool:
        return self.purpose is not Purpose.REPLY

    @property
    def consent_purpose(self) -> Purpose:
        if self.template is not None and self.template.category is TemplateCategory.MARKETING:
            return Purpose.MARKETING
        return self.purpose


def decide(ctx: SendContext) -> Decision:
    if ctx.consent is not None and ctx.consent.channel is not ctx.provider.channel:
        raise ValueError(f"consent record is for {ctx.consent.channel}, the message goes by {ctx.provider.channel}")
    if ctx.template is not None:
        language = ctx.language if ctx.language is not None else ctx.template.language
        verdict = template_decision(ctx.template, ctx.account_id, language, ctx.variables)
        if isinstance(verdict, Blocked):
            return verdict
    verdict = consent_decision(ctx.consent_purpose, ctx.consent, ctx.contact_wrote)
    if isinstance(verdict, Blocked):
        return verdict
    # a template that got this far passed step 1, so it is approved for this account and language
    window = window_decision(ctx.provider, ctx.last_inbound_at, ctx.now, ctx.human_agent,
                             is_template=ctx.template is not None, template_approved=ctx.template is not None)
    if isinstance(window, Blocked):
        return window
    quiet = quiet_hours_decision(ctx.now, ctx.quiet_hours, ctx.team_tz, ctx.contact_tz, ctx.business_initiated,
                                 ctx.last_inbound_at, ctx.reply_grace)
    if isinstance(quiet, Deferred):
        return quiet
    return window  # Allowed, with the window's tag if any
