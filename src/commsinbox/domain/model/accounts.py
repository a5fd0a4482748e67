"""Communication account: a team's connected WhatsApp or Instagram sender."""
from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import attrs

from .channels import Provider
from .ids import AccountId, TeamId


class AccountStatus(enum.StrEnum):
    ACTIVE = "active"  # credentials checked against the provider
    UNVERIFIED = "unverified"  # saved without checking (connect with verify=false)
    ERROR = "error"  # the provider refused the credentials at the last check


@attrs.define
class CommunicationAccount:
    id: AccountId
    team_id: TeamId
    provider: Provider
    external_id: str  # how webhooks name it: phone_number_id, Instagram account id, or the sender's E.164
    display_name: str
    status: AccountStatus
    created_at: dt.datetime
    credentials_sealed: str | None = attrs.field(default=None, repr=False)
    settings: dict[str, Any] = attrs.field(factory=dict)
    rate_config: dict[str, Any] = attrs.field(factory=dict)

    def credentials_aad(self) -> bytes:
        """Associated data that binds sealed credentials to this team, account and purpose."""
        return f"team:{self.team_id}|account:{self.id}|purpose:credentials".encode()
