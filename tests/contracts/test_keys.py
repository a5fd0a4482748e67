"""The credentials keyring on both adapters: start-up check, rotation, never a garbage decrypt."""
from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from commsinbox.adapters.clock import SystemClock
from commsinbox.adapters.crypto.keyring import AesGcmKeyring
from commsinbox.adapters.memory.probe import MemoryProbe
from commsinbox.adapters.memory.providers import MemoryProviderRegistry
from commsinbox.adapters.memory.throttle import MemoryLoginThrottle
from commsinbox.adapters.memory.live import MemoryChangeNotifier
from commsinbox.adapters.memory.store import MemoryDatabase
from commsinbox.adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from commsinbox.adapters.storage.memory import MemoryBlobStorage
from commsinbox.domain.usecases.connections import Connect
from commsinbox.entrypoints.container import Services, build_container, postgres_services
from commsinbox.ports.crypto import SecretUnreadable
from tests.conftest import FAST_HASHER, make_team, settings_for

pytestmark = pytest.mark.integration


@pytest.fixture(params=["memory", "postgres"])
async def uows(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[object]:
    """A database of its own: rotation re-seals everything in it."""
    if request.param == "memory":
        yield MemoryUnitOfWorkFactory()
        return
    url = request.getfixturevalue("fresh_database")
    async with postgres_services(settings_for(tmp_path, url), owner=url, hasher=FAST_HASHER) as services:
        yield services.uows


def with_keys(uows: object, *keys: tuple[str, bytes]) -> Services:
    """The same database, another keyring (as after changing CREDENTIALS_ENCRYPTION_KEYS and restarting)."""
    return build_container(uows=uows, storage=MemoryBlobStorage(), throttle=MemoryLoginThrottle(SystemClock()),  # type: ignore[arg-type]
                           probe=MemoryProbe(), box=AesGcmKeyring(list(keys)), providers=MemoryProviderRegistry(),
                           notifier=MemoryChangeNotifier(MemoryDatabase()), hasher=FAST_HASHER).resolve(Services)


async def test_rotation_reseals_under_the_newest_key_and_the_check_names_a_missing_key(uows: object) -> None:
    old, new = ("old", os.urandom(32)), ("new", os.urandom(32))
    first = with_keys(uows, old, ("test-1", b"k" * 32))
    await first.keys.check()
    member = await make_team(first)
    account = await first.connections.connect(member.actor, Connect(
        "whatsapp-meta", "Shop", f"pn-{os.urandom(6).hex()}", {"accessToken": "EAAG-secret"}, verify=False))
    assert "EAAG-secret" not in (account.credentials_sealed or "")

    with pytest.raises(SecretUnreadable, match="'old'"):
        await with_keys(uows, new, ("test-1", b"k" * 32)).keys.check()  # the old key is gone: a clear error
    with pytest.raises(SecretUnreadable, match="'old'"):
        await with_keys(uows, ("old", os.urandom(32)), ("test-1", b"k" * 32)).keys.check()  # same id, other key

    assert await with_keys(uows, new, old, ("test-1", b"k" * 32)).keys.rotate() == 1
    after_rotation = with_keys(uows, new)  # the old keys may now leave the keyring
    await after_rotation.keys.check()
    stored = await after_rotation.connections.get(member.actor, account.id)
    assert stored.credentials_sealed and stored.credentials_sealed.startswith("v1.new.")
    assert after_rotation.connections.credentials(stored) == {"accessToken": "EAAG-secret"}
