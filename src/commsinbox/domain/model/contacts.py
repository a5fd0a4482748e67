"""Contact: a person a team talks to, known by one or more identities (phone, WhatsApp id, Instagram id)."""
from __future__ import annotations

import datetime as dt
import enum

import attrs

from .ids import ClientId, ContactId, TeamId


class IdentityKind(enum.StrEnum):
    PHONE = "phone"  # a canonical phone key (see domain.model.phones)
    WA_ID = "wa_id"
    IGSID = "igsid"


@attrs.define
class Contact:
    id: ContactId
    team_id: TeamId
    created_at: dt.datetime
    display_name: str | None = None
    phone: str | None = None  # E.164 as the provider last gave it
    client_id: ClientId | None = None


@attrs.frozen
class Identity:
    kind: IdentityKind
    value: str
