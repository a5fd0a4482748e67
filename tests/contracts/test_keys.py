"""The credentials keyring on both adapters: start-up check, rotation, never a garbage decrypt."""
from __future__ import annotations

import os

import pytest

from commsinbox.adapters.crypto.keyring import AesGcmKeyring
from commsinbox.adapters.memory.probe import MemoryProbe
from commsinbox.adapters.memory.providers import MemoryProviderRegistry
from commsinbox.adapters.memory.throttle import MemoryLoginThrottle
from commsinbox.adapters.storage.memory import MemoryBlobStorage
from commsinbox.adapters.clock import SystemClock
from commsinbox.domain.usecases.connections import Connect
from commsinbox.entrypoints.container import Services, build_container
from commsinbox.ports.crypto import SecretUnreadable
from tests.conftest import make_team

pytestmark = pytest.mark.integration


def with_keys(services: Services, *keys: tuple[str, bytes]) -> Services:
    """The same database, another keyring (as after changing CREDENTIALS_ENCRYPTION_KEYS and restarting); the
    shared test database's own key stays at the end, as an old key every keyring here still has."""
    return build_container(uows=services.uows, storage=MemoryBlobStorage(), throttle=MemoryLoginThrottle(SystemClock()),
                           probe=MemoryProbe(), box=AesGcmKeyring([*keys, ("test-1", b"k" * 32)]),
                           providers=MemoryProviderRegistry()).resolve(Services)


async def test_rotation_reseals_under_the_newest_key_and_the_check_names_a_missing_key(services: Services) -> None:
    old, new = (f"old-{os.urandom(4).hex()}", os.urandom(32)), (f"new-{os.urandom(4).hex()}", os.urandom(32))
    first = with_keys(services, old)
    await first.keys.check()
    member = await make_team(first)
    account = await first.connections.connect(member.actor, Connect(
        "whatsapp-meta", "Shop", f"pn-{os.urandom(6).hex()}", {"accessToken": "EAAG-secret"}, verify=False))
    assert "EAAG-secret" not in (account.credentials_sealed or "")

    with pytest.raises(SecretUnreadable, match=old[0]):
        await with_keys(services, new).keys.check()  # the old key is gone: a clear error, not garbage
    with pytest.raises(SecretUnreadable, match=old[0]):
        await with_keys(services, (old[0], os.urandom(32))).keys.check()  # same id, different key

    rotated = with_keys(services, new, old)
    assert await rotated.keys.rotate() >= 1
    after_rotation = with_keys(services, new)
    stored = await after_rotation.connections.get(member.actor, account.id)
    assert stored.credentials_sealed and stored.credentials_sealed.startswith(f"v1.{new[0]}.")
    assert after_rotation.connections.credentials(stored) == {"accessToken": "EAAG-secret"}
    async with services.uows.for_team(member.team_id) as uow:  # free the provider id for other tests
        await uow.accounts.remove(account.id)
        await uow.commit()
