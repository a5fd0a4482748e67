"""Consent: may this contact receive a message sent for this purpose?

- the latest record is an opt-out → Blocked(opted_out), whatever the purpose;
- marketing needs an opt-in record → else Blocked(consent_missing);
- a reply or a utility message is allowed when the contact has written to us or has opted in
  → else Blocked(consent_missing).
"""
from __future__ import annotations

from ..model.consent import ConsentRecord, ConsentStatus, Purpose
from .decision import CONSENT_MISSING, OPTED_OUT, Allowed, Blocked, Decision

__all__ = ["Purpose", "consent_decision"]


def consent_decision(purpose: Purpose, latest: ConsentRecord | None, contact_wrote: bool) -> Decision:
    status = latest.status if latest else None
    if status is ConsentStatus.OPTED_OUT:
        return Blocked(OPTED_OUT)
    if status is ConsentStatus.OPTED_IN:
        return Allowed()
    if purpose is not Purpose.MARKETING and contact_wrote:
        return Allowed()
    return Blocked(CONSENT_MISSING)
