"""The messaging window: how long after the contact's last inbound message a business may write freely.

| provider | elapsed since last inbound | state | what may go |
|---|---|---|---|
| WhatsApp (Meta Cloud, Twilio) | < 24 h | open | anything |
| | ≥ 24 h, or never wrote | closed | only an approved template |
| Instagram | < 24 h | open | anything |
| | 24 h ≤ elapsed < 7 d, human agent | human_agent_only | the message, tagged `HUMAN_AGENT` |
| | 24 h ≤ elapsed < 7 d, automation | closed | nothing (`window_human_agent_required`) |
| | ≥ 7 d, or never wrote | closed | nothing (`window_closed`); Instagram has no templates |
| WhatsApp Web (Baileys) | any | none | anything (no window) |

The boundaries are half-open: exactly 24 h after the last inbound message the WhatsApp window is closed (Meta:
"more than 24 hours have passed" is error 131047; we close at 24 h so a message never races the provider's
clock), and exactly 7 d after it the Instagram human-agent window is closed.

The HUMAN_AGENT tag travels in the decision: `window_decision` answers `Allowed(tag="HUMAN_AGENT")` when the sender
must send `messaging_type=MESSAGE_TAG, tag=HUMAN_AGENT`, and plain `Allowed()` otherwise. `needs_human_agent_tag`
gives the same answer from a `WindowState`.
"""
from __future__ import annotations

import datetime as dt
import enum

from ..model.channels import Provider
from .decision import (HUMAN_AGENT_TAG, WINDOW_CLOSED, WINDOW_CLOSED_TEMPLATE_REQUIRED, WINDOW_HUMAN_AGENT_REQUIRED,
                       Allowed, Blocked, Decision)

STANDARD_WINDOW = dt.timedelta(hours=24)
HUMAN_AGENT_WINDOW = dt.timedelta(days=7)  # Instagram, HUMAN_AGENT tag

_WHATSAPP_BUSINESS = frozenset({Provider.WHATSAPP_META, Provider.WHATSAPP_TWILIO})


class WindowState(enum.StrEnum):
    OPEN = "open"
    HUMAN_AGENT_ONLY = "human_agent_only"  # open for a human agent's message tagged HUMAN_AGENT (Instagram)
    CLOSED = "closed"
    NONE = "none"  # the provider has no window (Baileys)


def window_state(provider: Provider, last_inbound_at: dt.datetime | None, now: dt.datetime,
                 human_agent: bool) -> WindowState:
    if provider is Provider.WHATSAPP_BAILEYS:
        return WindowState.NONE
    if last_inbound_at is None:
        return WindowState.CLOSED
    elapsed = now - last_inbound_at
    if elapsed < STANDARD_WINDOW:
        return WindowState.OPEN
    if provider is Provider.INSTAGRAM_META and human_agent and elapsed < HUMAN_AGENT_WINDOW:
        return WindowState.HUMAN_AGENT_ONLY
    return WindowState.CLOSED


def needs_human_agent_tag(state: WindowState) -> bool:
    return state is WindowState.HUMAN_AGENT_ONLY


def window_closes_at(provider: Provider, last_inbound_at: dt.datetime | None,
                     human_agent: bool) -> dt.datetime | None:
    """The first instant at which the window is closed for this sender (useful to show "closes in 3 h" and to see
    whether a deferred message will still fit); None when the provider has no window or the contact never wrote."""
    if provider is Provider.WHATSAPP_BAILEYS or last_inbound_at is None:
        return None
    if provider is Provider.INSTAGRAM_META and human_agent:
        return last_inbound_at + HUMAN_AGENT_WINDOW
    return last_inbound_at + STANDARD_WINDOW


def window_decision(provider: Provider, last_inbound_at: dt.datetime | None, now: dt.datetime, human_agent: bool,
                    is_template: bool, template_approved: bool) -> Decision:
    """Allowed inside the window; on WhatsApp outside it only an approved template; on Instagram nothing outside
    it (between 24 h and 7 d only a human agent, with the HUMAN_AGENT tag)."""
    state = window_state(provider, last_inbound_at, now, human_agent)
    if state in (WindowState.OPEN, WindowState.NONE):
        return Allowed()
    if state is WindowState.HUMAN_AGENT_ONLY:
        return Allowed(tag=HUMAN_AGENT_TAG)
    if provider in _WHATSAPP_BUSINESS:
        return Allowed() if is_template and template_approved else Blocked(WINDOW_CLOSED_TEMPLATE_REQUIRED)
    if last_inbound_at is not None and now - last_inbound_at < HUMAN_AGENT_WINDOW:
        return Blocked(WINDOW_HUMAN_AGENT_REQUIRED)
    return Blocked(WINDOW_CLOSED)
