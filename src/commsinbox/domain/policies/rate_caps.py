"""Rate caps with GCRA (the generic cell rate algorithm), as one pure function the PostgreSQL adapter mirrors.

State is a single timestamp per key, the theoretical arrival time `tat` (None: never sent). With the emission
interval `T` (= 1 / rate) and `burst` B (how many may go back to back after a quiet spell; B=1 means strictly one
per T), the tolerance is `tau = (B - 1) * T` and:

    t0 = max(coalesce(tat, now), now)
    allowed  = t0 - now <= tau
    new_tat  = t0 + T        if allowed else tat         (a refusal leaves the state as it was)
    retry_at = null          if allowed else t0 - tau    (the first instant the same call would be allowed)

In SQL, in one statement under a row lock (or `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`):
`t0 := greatest(coalesce(tat, now), now)`, `allowed := t0 - now <= (burst - 1) * interval`.

Guarantees: from a quiet start, B messages go at once and then one per T; over any time span `d` at most
`B + floor(d / T)` go; with B=1 never more than `ceil(d / T)`, i.e. exactly `per_second` in any one-second span.

Rate caps are applied at dispatch by the job, not by `outbound.decide`: a refused message is re-scheduled for
`retry_at`. `decide_all` applies several caps to one send (the account's and the account + recipient pair's): all
or none is consumed. `send_caps` is what a send is held to: an account's own `rate_config` (`perSecond`, `burst`)
or its provider's default, each slowed by JITTER_HEADROOM (see docs/policies.md#rate-caps).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from types import MappingProxyType

import attrs

from ..model.channels import Provider
from ..model.rates import RateCap

__all__ = ["BAILEYS_ACCOUNT", "DEFAULT_CAPS", "INSTAGRAM_ACCOUNT", "INSTAGRAM_MEDIA", "JITTER_HEADROOM", "META_ACCOUNT",
           "META_PAIR", "TWILIO_ACCOUNT", "GcraResult", "ProviderCaps", "RateCap", "Refused", "check", "decide_all",
           "decide_in_order", "gcra", "send_caps"]


@attrs.frozen
class GcraResult:
    allowed: bool
    new_tat: dt.datetime
    retry_at: dt.datetime | None  # None when allowed


def gcra(tat: dt.datetime | None, now: dt.datetime, emission_interval: dt.timedelta, burst: int) -> GcraResult:
    if emission_interval <= dt.timedelta(0):
        raise ValueError("emission_interval must be positive")
    if burst < 1:
        raise ValueError("burst must be at least 1")
    tolerance = (burst - 1) * emission_interval
    start = now if tat is None or tat < now else tat
    if start - now <= tolerance:
        return GcraResult(True, start + emission_interval, None)
    return GcraResult(False, start, start - tolerance)  # start > now, so start is the stored tat


def check(cap: RateCap, tat: dt.datetime | None, now: dt.datetime) -> GcraResult:
    """`gcra` with the cap's interval and burst."""
    return gcra(tat, now, cap.emission_interval, cap.burst)


@attrs.frozen
class ProviderCaps:
    """The default caps of one provider: per sending account, and per account + recipient (None: no pair cap)."""

    account: RateCap
    pair: RateCap | None
    account_media: RateCap | None = None  # a stricter account cap for audio and video, where one exists


# Meta pair limit: 1 message per 6 s to one recipient (error 131056). Meta lets bursts of up to 45 borrow future
# quota; we allow 10 back to back (an agent's text + picture + text) and keep the margin.
META_PAIR = RateCap.every(dt.timedelta(seconds=6), burst=10)
# Cloud API throughput: 80 messages/s per business number by default (error 130429 beyond). burst=1 keeps every
# one-second span at or under 80, whatever window Meta measures over.
META_ACCOUNT = RateCap(80, burst=1)
# Twilio WhatsApp sender: 80 MPS by default (63018 beyond). Twilio relays to Meta, so META_PAIR applies too.
TWILIO_ACCOUNT = RateCap(80, burst=1)
# Instagram Send API per professional account: 300 calls/s for text, links, reactions and stickers, 10 calls/s for
# audio and video. Meta publishes no per-thread number ("too many messages to one thread"): META_PAIR is reused.
INSTAGRAM_ACCOUNT = RateCap(300, burst=1)
INSTAGRAM_MEDIA = RateCap(10, burst=1)
# WhatsApp Web has no published limit and bans numbers that send in bulk: our own conservative choice.
BAILEYS_ACCOUNT = RateCap(1, burst=5)

DEFAULT_CAPS: Mapping[Provider, ProviderCaps] = MappingProxyType({
    Provider.WHATSAPP_META: ProviderCaps(account=META_ACCOUNT, pair=META_PAIR),
    Provider.WHATSAPP_TWILIO: ProviderCaps(account=TWILIO_ACCOUNT, pair=META_PAIR),
    Provider.INSTAGRAM_META: ProviderCaps(account=INSTAGRAM_ACCOUNT, pair=META_PAIR, account_media=INSTAGRAM_MEDIA),
    Provider.WHATSAPP_BAILEYS: ProviderCaps(account=BAILEYS_ACCOUNT, pair=META_PAIR),
})


# The limiter decides when a request leaves; the provider counts when it arrives. Spacing decisions 4 % wider than
# the cap means X + 1 requests land in one second only if the network delays one of them 40 ms more than the one
# X requests later (docs/policies.md#rate-caps).
JITTER_HEADROOM = 0.04


@attrs.frozen
class Refused:
    """A send over a cap: the earliest instant the same send would be allowed, and each refusing key's own."""

    retry_at: dt.datetime
    keys: Mapping[str, dt.datetime]


def decide_all(states: Mapping[str, tuple[RateCap, dt.datetime | None]],
               now: dt.datetime) -> tuple[dict[str, dt.datetime], Refused | None]:
    """One send against several caps (key → (cap, tat)): the new tats when every key allows it, or no change and
    the earliest instant all would (GCRA allowance only grows while nothing is consumed, so it is the latest of
    the refusing keys' retry times)."""
    results = {key: check(cap, tat, now) for key, (cap, tat) in states.items()}
    refused = {key: r.retry_at for key, r in results.items() if r.retry_at is not None}
    if refused:
        return {}, Refused(max(refused.values()), MappingProxyType(refused))
    return {key: r.new_tat for key, r in results.items()}, None


def decide_in_order(tats: dict[str, dt.datetime | None], sends: Sequence[Sequence[tuple[str, RateCap]]],
                    now: dt.datetime) -> list[Refused | None]:
    """`decide_all` for several sends in turn, each seeing what the earlier ones consumed; updates `tats`."""
    results: list[Refused | None] = []
    for keys in sends:
        new_tats, refused = decide_all({key: (cap, tats.get(key)) for key, cap in keys}, now)
        tats.update(new_tats)
        results.append(refused)
    return results


def _slowed(cap: RateCap) -> RateCap:
    return RateCap(cap.per_second / (1 + JITTER_HEADROOM), cap.burst)


def send_caps(provider: Provider, account_id: str, recipient: str,
              rate_config: Mapping[str, Any]) -> list[tuple[str, RateCap]]:
    """The (key, cap) pairs one send to `recipient` from `account_id` takes a token from."""
    defaults = DEFAULT_CAPS[provider]
    account = (RateCap.parse(rate_config.get("perSecond"), rate_config.get("burst", 1))
               if "perSecond" in rate_config else defaults.account)
    keys = [(f"account:{account_id}", _slowed(account))]
    if defaults.pair is not None:
        keys.append((f"pair:{account_id}:{recipient}", defaults.pair))
    return keys
