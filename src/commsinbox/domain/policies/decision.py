"""What a policy answers about one outbound message: send it now, send it later, or never.

Policies return these values and never raise for a refusal (house style 15). `Blocked.reason` is one of the
constants below; the API shows it to the caller and the audit log records it.
"""
from __future__ import annotations

import datetime as dt

import attrs

# Blocked reasons
CONSENT_MISSING = "consent_missing"  # marketing without an opt-in, or a first contact without consent
OPTED_OUT = "opted_out"  # the contact's latest consent record is an opt-out
WINDOW_CLOSED_TEMPLATE_REQUIRED = "window_closed_template_required"  # WhatsApp, 24 h passed: only a template may go
WINDOW_CLOSED = "window_closed"  # Instagram: nothing may go until the contact writes again (no templates there)
WINDOW_HUMAN_AGENT_REQUIRED = "window_human_agent_required"  # Instagram, 24 h..7 d: only a human agent may reply
TEMPLATE_NOT_APPROVED = "template_not_approved"  # not approved, or for another account or language
TEMPLATE_VARIABLES_MISMATCH = "template_variables_mismatch"  # wrong number of variables, or an empty one

BLOCK_REASONS = frozenset({CONSENT_MISSING, OPTED_OUT, WINDOW_CLOSED_TEMPLATE_REQUIRED, WINDOW_CLOSED,
                           WINDOW_HUMAN_AGENT_REQUIRED, TEMPLATE_NOT_APPROVED, TEMPLATE_VARIABLES_MISMATCH})

# Deferred rules
QUIET_HOURS = "quiet_hours"

# Message tags the sender must put on an allowed message
HUMAN_AGENT_TAG = "HUMAN_AGENT"  # Instagram: messaging_type=MESSAGE_TAG, tag=HUMAN_AGENT


@attrs.frozen
class Allowed:
    """Send now. `tag`, when set, must go with the message (Instagram's `HUMAN_AGENT` after 24 h)."""

    tag: str | None = None


@attrs.frozen
class Deferred:
    """Send at `until` (aware UTC), after evaluating the policies again then: the window or consent may have
    changed in the meantime."""

    until: dt.datetime
    rule: str


@attrs.frozen
class Blocked:
    reason: str


Decision = Allowed | Deferred | Blocked
