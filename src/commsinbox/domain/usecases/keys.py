"""The credentials keyring: checked at start-up, and rotation of everything sealed under older keys."""
from __future__ import annotations

import attrs

from ...ports.clock import Clock
from ...ports.crypto import SecretBox, SecretUnreadable
from ...ports.unit_of_work import UnitOfWorkFactory

CANARY = b"commsinbox keyring canary"
CANARY_AAD = b"purpose:keyring-canary"


@attrs.define
class KeyService:
    uows: UnitOfWorkFactory
    box: SecretBox
    clock: Clock

    async def check(self) -> None:
        """Opens the value sealed under each key ever used; a key that is missing from the keyring or different
        from the one used then stops start-up with an error naming it (never garbage at the first decrypt)."""
        async with self.uows.for_accounts() as uow:
            canaries = await uow.canaries.all()
            for key_id, sealed in canaries.items():
                try:
                    opened = self.box.open(sealed, associated_data=CANARY_AAD)
                except SecretUnreadable as exc:
                    raise SecretUnreadable(f"credentials were sealed under key '{key_id}', which this keyring "
                                           f"cannot open ({exc}): check CREDENTIALS_ENCRYPTION_KEYS") from None
                if opened != CANARY:
                    raise SecretUnreadable(f"key '{key_id}' opens its canary to the wrong value")
            if self.box.current_key_id not in canaries:
                await uow.canaries.add(self.box.current_key_id, self.box.seal(CANARY, associated_data=CANARY_AAD),
                                       self.clock.now())
                await uow.commit()

    async def rotate(self) -> int:
        """Re-seals every account's credentials still under an older key with the newest (returns how many);
        afterwards the older keys may be removed from the keyring."""
        await self.check()
        async with self.uows.for_accounts() as uow:
            routes = await uow.routes.accounts()
        rotated = 0
        for route in routes:
            async with self.uows.for_team(route.team_id) as uow:
                account = await uow.accounts.get(route.account_id)
                if account is None or not account.credentials_sealed or not self.box.needs_rotation(
                        account.credentials_sealed):
                    continue
                plaintext = self.box.open(account.credentials_sealed, associated_data=account.credentials_aad())
                account.credentials_sealed = self.box.seal(plaintext, associated_data=account.credentials_aad())
                await uow.accounts.update(account)
                await uow.commit()
                rotated += 1
        async with self.uows.for_accounts() as uow:
            await uow.canaries.retire_all_but(self.box.current_key_id)
            await uow.commit()
        return rotated
