"""The composition root shared by `serve`, `worker`, the CLI, tests and library users."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import attrs
import punq

from ..adapters.clock import SecretsTokenGenerator, SystemClock, UuidGenerator
from ..adapters.crypto.jwt_verifier import SupabaseJwtVerifier
from ..adapters.crypto.passwords import ScryptPasswordHasher
from ..adapters.memory.probe import MemoryProbe
from ..adapters.memory.throttle import MemoryLoginThrottle
from ..adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from ..adapters.postgres import migrate
from ..adapters.postgres.embedded import start_embedded
from ..adapters.postgres.engine import app_engine, as_app_role_url
from ..adapters.postgres.probe import PostgresProbe
from ..adapters.postgres.throttle import PostgresLoginThrottle
from ..adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from ..adapters.storage.local import LocalBlobStorage
from ..adapters.storage.memory import MemoryBlobStorage
from ..domain.usecases.access import TeamAccess
from ..domain.usecases.accounts import AccountService
from ..domain.usecases.clients import ClientService
from ..domain.usecases.ingest import IngestService
from ..domain.usecases.records import RecordService
from ..domain.usecases.teams import TeamService
from ..domain.usecases.vault import VaultService
from ..ports.clock import Clock, IdGenerator, TokenGenerator
from ..ports.health import DatabaseProbe
from ..ports.security import ExternalTokenVerifier, LoginThrottle, PasswordHasher
from ..ports.storage import BlobStorage
from ..ports.unit_of_work import UnitOfWorkFactory
from .config import ConfigError, Settings

log = logging.getLogger("commsinbox")


@attrs.frozen
class Services:
    """Everything an entrypoint calls: the use cases, resolved once."""

    accounts: AccountService
    access: TeamAccess
    teams: TeamService
    clients: ClientService
    records: RecordService
    vault: VaultService
    ingest: IngestService
    database: DatabaseProbe
    storage: BlobStorage
    uows: UnitOfWorkFactory


def build_container(*, uows: UnitOfWorkFactory, storage: BlobStorage, throttle: LoginThrottle,
                    probe: DatabaseProbe, clock: Clock | None = None, hasher: PasswordHasher | None = None,
                    external: ExternalTokenVerifier | None = None, login_limit: int = 10) -> punq.Container:
    container = punq.Container()
    container.register(UnitOfWorkFactory, instance=uows)
    container.register(BlobStorage, instance=storage)
    container.register(LoginThrottle, instance=throttle)
    container.register(DatabaseProbe, instance=probe)
    container.register(Clock, instance=clock or SystemClock())
    container.register(IdGenerator, instance=UuidGenerator())
    container.register(TokenGenerator, instance=SecretsTokenGenerator())
    container.register(PasswordHasher, instance=hasher or ScryptPasswordHasher())
    container.register(AccountService, external=external, login_limit=login_limit)
    for service in (TeamAccess, TeamService, ClientService, RecordService, VaultService, IngestService, Services):
        container.register(service)
    return container


def memory_services(*, clock: Clock | None = None, hasher: PasswordHasher | None = None) -> Services:
    """A complete product in process memory: for tests, BDD and embedding without a database."""
    clock = clock or SystemClock()
    return build_container(uows=MemoryUnitOfWorkFactory(), storage=MemoryBlobStorage(),
                           throttle=MemoryLoginThrottle(clock), probe=MemoryProbe(), clock=clock,
                           hasher=hasher).resolve(Services)


def owner_url(settings: Settings) -> str:
    """The schema owner's URL: DATABASE_URL, or the embedded server started on demand."""
    if settings.database_url is not None:
        return settings.database_url.reveal()
    return start_embedded(settings.data_dir)


@contextlib.asynccontextmanager
async def postgres_services(settings: Settings, *, owner: str | None = None, migrate_first: bool = True,
                            clock: Clock | None = None, hasher: PasswordHasher | None = None
                            ) -> AsyncIterator[Services]:
    """Services on PostgreSQL, the application connecting as the RLS-bound role. Disposes the pool on exit."""
    if settings.storage_backend != "local":
        raise ConfigError("STORAGE_BACKEND", "local", reason="the S3 storage adapter is not part of this version")
    owner = owner or await asyncio.to_thread(owner_url, settings)
    if migrate_first:
        await asyncio.to_thread(migrate.upgrade, owner)
    if settings.database_app_url is not None:
        engine = app_engine(settings.database_app_url.reveal(), set_role=False)
    elif settings.database_url is None:
        engine = app_engine(as_app_role_url(owner), set_role=False)
    else:
        engine = app_engine(owner, set_role=True)
    clock = clock or SystemClock()
    limit, window = settings.login_rate_limit
    external = (SupabaseJwtVerifier(settings.supabase_jwt_secret.reveal(), settings.supabase_jwt_audience,
                                    settings.supabase_jwt_issuer) if settings.supabase_jwt_secret else None)
    try:
        yield build_container(
            uows=PostgresUnitOfWorkFactory(engine),
            storage=LocalBlobStorage(settings.data_dir / "vault"),
            throttle=PostgresLoginThrottle(engine, clock, window),
            probe=PostgresProbe(engine), clock=clock, hasher=hasher, external=external, login_limit=limit,
        ).resolve(Services)
    finally:
        await engine.dispose()
