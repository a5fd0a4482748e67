"""Delivery status only moves forward: queued < sent < delivered < read < played; failed is terminal."""
from __future__ import annotations

import datetime as dt

import attrs

from ..model.channels import DeliveryStatus


@attrs.frozen
class Reported:
    status: DeliveryStatus
    at: dt.datetime
    error_code: str | None = None
    error_title: str | None = None


@attrs.frozen
class DeliveryState:
    status: DeliveryStatus
    delivered_at: dt.datetime | None = None
    read_at: dt.datetime | None = None
    error_code: str | None = None
    error_message: str | None = None


def apply(state: DeliveryState, reports: list[Reported] | tuple[Reported, ...]) -> DeliveryState:
    """The state after every report, in any order of arrival: the highest rank wins, failure is final, and
    a read implies delivery (WhatsApp may skip the delivered callback)."""
    for report in sorted(reports, key=lambda r: (r.status.rank, r.at)):
        state = _one(state, report)
    return state


def _one(state: DeliveryState, report: Reported) -> DeliveryState:
    if state.status is DeliveryStatus.FAILED:
        return state
    if report.status is DeliveryStatus.FAILED:
        return attrs.evolve(state, status=DeliveryStatus.FAILED, error_code=report.error_code,
                            error_message=report.error_title)
    status = report.status if report.status.rank > state.status.rank else state.status
    delivered_at = state.delivered_at
    if report.status.rank >= DeliveryStatus.DELIVERED.rank:
        delivered_at = min(delivered_at or report.at, report.at)
    read_at = state.read_at
    if report.status.rank >= DeliveryStatus.READ.rank:
        read_at = min(read_at or report.at, report.at)
    return attrs.evolve(state, status=status, delivered_at=delivered_at, read_at=read_at)
