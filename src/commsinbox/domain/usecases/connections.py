"""Connecting a team's WhatsApp and Instagram accounts. Credentials are checked against the provider, sealed
with the keyring (bound to team, account and purpose) and never handed back."""
from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import attrs

from ...ports.clock import Clock, IdGenerator
from ...ports.crypto import SecretBox
from ...ports.providers import AccountAccess, CredentialsRejected, ProviderRegistry
from ...ports.unit_of_work import TeamUnitOfWork, UnitOfWorkFactory
from ..model import audit, values
from ..model.audit import AuditEvent
from ..model.accounts import AccountStatus, CommunicationAccount
from ..model.channels import Provider
from ..model.errors import FieldError, InvalidInput, NotFound
from ..model.ids import AccountId
from ..model.rates import RateCap
from ..model.values import Permission
from .access import Actor
from .inbound import InboundProcessor
from .ingest import waba_key

REQUIRED = {
    Provider.WHATSAPP_META: ("accessToken",),
    Provider.INSTAGRAM_META: ("accessToken",),
    Provider.WHATSAPP_TWILIO: ("accountSid", "authToken"),
}
OPTIONAL = {
    Provider.WHATSAPP_META: ("wabaId", "appSecret"),
    Provider.INSTAGRAM_META: ("appSecret",),
    Provider.WHATSAPP_TWILIO: (),
}


@attrs.frozen
class Connect:
    provider: str
    display_name: str
    external_id: str
    credentials: dict[str, Any] = attrs.field(repr=False)
    settings: dict[str, Any] = attrs.field(factory=dict)
    verify: bool = True


@attrs.define
class ConnectionService:
    uows: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    box: SecretBox
    providers: ProviderRegistry
    inbound: InboundProcessor

    async def connect(self, actor: Actor, cmd: Connect) -> CommunicationAccount:
        actor.require(Permission.ACCOUNTS_MANAGE)
        provider = _provider(cmd.provider)
        credentials = _credentials(provider, cmd.credentials)
        external_id = _external_id(provider, cmd.external_id)
        status = await self._check(provider, external_id, credentials) if cmd.verify else AccountStatus.UNVERIFIED
        account = CommunicationAccount(AccountId(self.ids.new_id()), actor.team_id, provider, external_id,
                                       values.non_empty(cmd.display_name, "displayName"), status,
                                       self.clock.now(), settings=dict(cmd.settings))
        account.credentials_sealed = self._seal(account, credentials)
        verified = account.status is AccountStatus.ACTIVE
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            # webhooks reach an account only once its credentials proved it belongs to the team
            await uow.accounts.add(account, _shared_routes(credentials), routed=verified)
            await _audit(uow, actor, audit.ACCOUNT_CONNECTED, account, self.clock.now(),
                         displayName=account.display_name)
            await uow.commit()
        if verified:
            await self._replay(account, credentials)
        return account

    async def _replay(self, account: CommunicationAccount, credentials: dict[str, Any]) -> None:
        """Ingests the stored events that named the account before it could receive them."""
        for key in (account.external_id, *_shared_routes(credentials)):
            await self.inbound.replay_unrouted(account.provider, key)

    async def list(self, actor: Actor) -> list[CommunicationAccount]:
        actor.require(Permission.ACCOUNTS_READ)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            return await uow.accounts.list()

    async def get(self, actor: Actor, id: str) -> CommunicationAccount:
        actor.require(Permission.ACCOUNTS_READ)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            return await _account(uow, id)

    async def remove(self, actor: Actor, id: str) -> None:
        actor.require(Permission.ACCOUNTS_MANAGE)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            account = await _account(uow, id)
            await uow.accounts.remove(account.id)
            await _audit(uow, actor, audit.ACCOUNT_REMOVED, account, self.clock.now())
            await uow.commit()

    async def verify(self, actor: Actor, id: str) -> CommunicationAccount:
        """Checks the stored credentials again; the account's status says what the provider answered."""
        actor.require(Permission.ACCOUNTS_MANAGE)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            account = await _account(uow, id)
        credentials = self.credentials(account)
        try:
            account.status = await self._check(account.provider, account.external_id, credentials)
        except InvalidInput:
            account.status = AccountStatus.ERROR
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            await uow.accounts.update(account)
            if account.status is AccountStatus.ACTIVE:
                await uow.accounts.route(account, _shared_routes(credentials))
            await uow.commit()
        if account.status is AccountStatus.ACTIVE:
            await self._replay(account, credentials)
        return account

    async def set_rate_cap(self, actor: Actor, id: str, per_second: object, burst: object = 1) -> CommunicationAccount:
        """The account's own cap on sends (messages/second, and how many may go back to back), instead of its
        provider's default (policies.rate_caps.DEFAULT_CAPS); the recipient pair cap stays the provider's."""
        actor.require(Permission.ACCOUNTS_MANAGE)
        cap = RateCap.parse(per_second, burst)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            account = await _account(uow, id)
            account.rate_config = {**account.rate_config, "perSecond": cap.per_second, "burst": cap.burst}
            await uow.accounts.update(account)
            await uow.commit()
        return account

    async def rotate_credentials(self, actor: Actor, id: str, credentials: dict[str, Any]) -> CommunicationAccount:
        actor.require(Permission.ACCOUNTS_MANAGE)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            account = await _account(uow, id)
        fresh = _credentials(account.provider, credentials)
        account.status = await self._check(account.provider, account.external_id, fresh)
        account.credentials_sealed = self._seal(account, fresh)
        async with self.uows.for_team(actor.team_id, actor.user_id) as uow:
            await uow.accounts.update(account)
            await uow.accounts.route(account, _shared_routes(fresh))  # checked: webhooks may reach it now
            await _audit(uow, actor, audit.ACCOUNT_CREDENTIALS_ROTATED, account, self.clock.now())
            await uow.commit()
        await self._replay(account, fresh)
        return account

    async def credentials_for(self, provider: Provider, external_id: str) -> dict[str, Any] | None:
        """The credentials of the connected account a webhook names, to check its signature; None if unknown."""
        async with self.uows.for_accounts() as system:
            route = await system.routes.find(provider, external_id)
        if route is None:
            return None
        async with self.uows.for_team(route.team_id) as uow:
            account = await uow.accounts.get(route.account_id)
        return self.credentials(account) if account is not None else None

    def credentials(self, account: CommunicationAccount) -> dict[str, Any]:
        if not account.credentials_sealed:
            return {}
        opened = self.box.open(account.credentials_sealed, associated_data=account.credentials_aad())
        return dict(json.loads(opened))

    def access(self, account: CommunicationAccount) -> AccountAccess:
        return AccountAccess(account.provider, account.external_id, self.credentials(account))

    def _seal(self, account: CommunicationAccount, credentials: dict[str, Any]) -> str:
        return self.box.seal(json.dumps(credentials).encode(), associated_data=account.credentials_aad())

    async def _check(self, provider: Provider, external_id: str, credentials: dict[str, Any]) -> AccountStatus:
        try:
            await self.providers.gateway(provider).verify(AccountAccess(provider, external_id, credentials))
        except CredentialsRejected as exc:
            raise InvalidInput.single("credentials", f"the provider refused them: {exc}") from None
        return AccountStatus.ACTIVE


def _shared_routes(credentials: dict[str, Any]) -> list[str]:
    return [waba_key(credentials["wabaId"])] if credentials.get("wabaId") else []


def _provider(name: str) -> Provider:
    try:
        provider = Provider(name)
    except ValueError:
        raise InvalidInput.single("provider", "must be one of " + ", ".join(p.value for p in Provider)) from None
    if provider not in REQUIRED:
        raise InvalidInput.single("provider", f"{name} accounts cannot be connected in this version")
    return provider


def _external_id(provider: Provider, given: str) -> str:
    """How webhooks will name the account: a Twilio sender is routed by its E.164 number, without `whatsapp:`."""
    external_id = values.non_empty(given, "externalId", 64)
    if provider is Provider.WHATSAPP_TWILIO:
        external_id = external_id.removeprefix("whatsapp:")
        if not re.fullmatch(r"\+[1-9]\d{6,14}", external_id):
            raise InvalidInput.single("externalId", "must be the sender's number in E.164, e.g. +14155238886")
    return external_id


def _credentials(provider: Provider, given: dict[str, Any]) -> dict[str, Any]:
    allowed = REQUIRED[provider] + OPTIONAL[provider]
    errors = [FieldError(f"credentials.{k}", "is required") for k in REQUIRED[provider] if not given.get(k)]
    errors += [FieldError(f"credentials.{k}", "is not a known field") for k in given if k not in allowed]
    errors += [FieldError(f"credentials.{k}", "must be a non-empty string") for k, v in given.items()
               if k in allowed and v is not None and (not isinstance(v, str) or not v.strip())]
    if errors:
        raise InvalidInput(errors)
    return {k: v for k, v in given.items() if v}


async def _audit(uow: TeamUnitOfWork, actor: Actor, action: str, account: CommunicationAccount, now: dt.datetime,
                 **extra: str) -> None:
    """Who connected, removed or re-keyed which account: never a credential."""
    await uow.audit.append(AuditEvent(audit.user_actor(actor.user_id), action, f"account:{account.id}", now, {
        "provider": account.provider.value, "externalId": account.external_id, "status": account.status.value,
        **extra}))


async def _account(uow, id: str) -> CommunicationAccount:  # type: ignore[no-untyped-def]
    account = await uow.accounts.get(id)
    if account is None:
        raise NotFound("account", id)
    return account
