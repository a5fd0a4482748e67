"""The composition root shared by `serve`, the other CLI commands, tests and library users."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator

import aiohttp
import attrs
import punq

from ..adapters.clock import SecretsTokenGenerator, SystemClock, UuidGenerator
from ..adapters.crypto import embedded_keys
from ..adapters.crypto.jwt_verifier import SupabaseJwtVerifier
from ..adapters.crypto.keyring import AesGcmKeyring
from ..adapters.crypto.passwords import ScryptPasswordHasher
from ..adapters.jobs.backoff import TenacityBackoff
from ..adapters.jobs.procrastinate_queue import ProcrastinateJobQueue
from ..adapters.jobs.procrastinate_schema import libpq_url
from ..adapters.memory.jobs import MemoryJobQueue
from ..adapters.memory.live import MemoryChangeNotifier
from ..adapters.memory.probe import MemoryProbe
from ..adapters.memory.providers import MemoryProviderRegistry
from ..adapters.memory.rates import MemoryRateLimiter
from ..adapters.memory.throttle import MemoryLoginThrottle
from ..adapters.memory.unit_of_work import MemoryUnitOfWorkFactory
from ..adapters.postgres import migrate
from ..adapters.postgres.embedded import start_embedded
from ..adapters.postgres.engine import app_engine, as_app_role_url
from ..adapters.postgres.live import PostgresChangeNotifier
from ..adapters.postgres.probe import PostgresProbe
from ..adapters.postgres.rates import PostgresRateLimiter
from ..adapters.postgres.schema import APP_ROLE
from ..adapters.postgres.throttle import PostgresLoginThrottle
from ..adapters.postgres.unit_of_work import PostgresUnitOfWorkFactory
from ..adapters.providers.parsers import ProviderWebhookParsers
from ..adapters.providers.registry import http_gateways
from ..adapters.storage.local import LocalBlobStorage
from ..adapters.storage.memory import MemoryBlobStorage
from ..adapters.storage.s3 import S3BlobStorage
from ..adapters.timezones import NumberingPlanTimezones
from ..domain.usecases.access import TeamAccess
from ..domain.usecases.accounts import AccountService
from ..domain.usecases.audit import AuditService
from ..domain.usecases.clients import ClientService
from ..domain.usecases.connections import ConnectionService
from ..domain.usecases.consent import ConsentService
from ..domain.usecases.dispatch import SendDispatcher
from ..domain.usecases.inbound import InboundProcessor
from ..domain.usecases.inbox import InboxService, LabelService
from ..domain.usecases.ingest import IngestService
from ..domain.usecases.keys import KeyService
from ..domain.usecases.live import LiveService
from ..domain.usecases.media import MediaService
from ..domain.usecases.outbound import OutboundService, OutboundSettings
from ..domain.usecases.receipts import ReadReceipts
from ..domain.model.values import QuietHours
from ..domain.usecases.records import RecordService
from ..domain.usecases.teams import TeamService
from ..domain.usecases.templates import TemplatesService
from ..domain.usecases.vault import VaultService
from ..ports.clock import Clock, IdGenerator, PhoneTimezones, TokenGenerator
from ..ports.crypto import SecretBox
from ..ports.health import DatabaseProbe
from ..ports.jobs import Backoff, JobQueue, JobWorker
from ..ports.live import ChangeNotifier
from ..ports.providers import ProviderRegistry, WebhookParsers
from ..ports.rates import RateLimiter
from ..ports.security import ExternalTokenVerifier, LoginThrottle, PasswordHasher
from ..ports.storage import BlobStorage
from ..ports.unit_of_work import UnitOfWorkFactory
from . import jobs as job_registry
from .config import Settings

log = logging.getLogger("commsinbox")
TWILIO_WEBHOOK_PATH = "/webhooks/twilio/whatsapp"  # inbound messages and, set on every send, status callbacks


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
    inbound: InboundProcessor
    connections: ConnectionService
    media: MediaService
    keys: KeyService
    inbox: InboxService
    labels: LabelService
    live: LiveService
    outbound: OutboundService
    receipts: ReadReceipts
    templates: TemplatesService
    consent: ConsentService
    audit: AuditService
    dispatcher: SendDispatcher
    clock: Clock
    database: DatabaseProbe
    storage: BlobStorage
    uows: UnitOfWorkFactory
    jobs: JobQueue
    job_worker: JobWorker  # the same queue, seen from the side that runs the jobs


def build_container(*, uows: UnitOfWorkFactory, storage: BlobStorage, throttle: LoginThrottle,
                    probe: DatabaseProbe, box: SecretBox, providers: ProviderRegistry, clock: Clock | None = None,
                    notifier: ChangeNotifier, hasher: PasswordHasher | None = None,
                    external: ExternalTokenVerifier | None = None, login_limit: int = 10,
                    jobs: MemoryJobQueue | ProcrastinateJobQueue | None = None,
                    outbound: OutboundSettings | None = None, limiter: RateLimiter | None = None,
                    backoff: Backoff | None = None) -> punq.Container:
    container = punq.Container()
    container.register(RateLimiter, instance=limiter or MemoryRateLimiter())
    container.register(Backoff, instance=backoff or TenacityBackoff())
    queue = jobs or MemoryJobQueue(clock=clock)
    container.register(JobQueue, instance=queue)
    container.register(JobWorker, instance=queue)
    container.register(OutboundSettings, instance=outbound or OutboundSettings(QuietHours.parse("21:00-08:00")))
    container.register(ChangeNotifier, instance=notifier)
    container.register(SecretBox, instance=box)
    container.register(ProviderRegistry, instance=providers)
    container.register(WebhookParsers, instance=ProviderWebhookParsers())
    container.register(UnitOfWorkFactory, instance=uows)
    container.register(BlobStorage, instance=storage)
    container.register(LoginThrottle, instance=throttle)
    container.register(DatabaseProbe, instance=probe)
    container.register(Clock, instance=clock or SystemClock())
    container.register(IdGenerator, instance=UuidGenerator())
    container.register(PhoneTimezones, instance=NumberingPlanTimezones())
    container.register(TokenGenerator, instance=SecretsTokenGenerator())
    container.register(PasswordHasher, instance=hasher or ScryptPasswordHasher())
    container.register(AccountService, external=external, login_limit=login_limit)
    for service in (TeamAccess, TeamService, ClientService, RecordService, VaultService, IngestService,
                    InboundProcessor, ConnectionService, MediaService, KeyService, InboxService, LabelService,
                    LiveService, OutboundService, SendDispatcher, ReadReceipts, TemplatesService, ConsentService,
                    AuditService, Services):
        container.register(service)
    return container


def memory_services(*, clock: Clock | None = None, hasher: PasswordHasher | None = None,
                    providers: ProviderRegistry | None = None, jobs: MemoryJobQueue | None = None) -> Services:
    """A complete product in process memory: for tests, BDD and embedding without a database or network. Deferred
    jobs run in-process (the MemoryJobQueue's `drain()` waits for them)."""
    clock = clock or SystemClock()
    box = AesGcmKeyring([("memory", os.urandom(32))])
    uows = MemoryUnitOfWorkFactory()
    services = build_container(uows=uows, storage=MemoryBlobStorage(), notifier=MemoryChangeNotifier(uows.db),
                               throttle=MemoryLoginThrottle(clock), probe=MemoryProbe(), box=box,
                               providers=providers or MemoryProviderRegistry(), clock=clock,
                               hasher=hasher, jobs=jobs).resolve(Services)
    job_registry.bind(services.job_worker, services)
    return services


def keyring(settings: Settings) -> AesGcmKeyring:
    """CREDENTIALS_ENCRYPTION_KEYS, or in development a key generated once under the data directory."""
    if settings.credentials_keys:
        return AesGcmKeyring.from_settings(settings)
    keys = embedded_keys.load_or_create(settings.data_dir)
    log.warning("CREDENTIALS_ENCRYPTION_KEYS is not set: using the development key in %s",
                settings.data_dir / embedded_keys.FILE_NAME)
    return AesGcmKeyring(keys)


@contextlib.asynccontextmanager
async def blob_storage(settings: Settings) -> AsyncIterator[BlobStorage]:
    """Local files under the data directory, or S3-compatible object storage (STORAGE_BACKEND=s3)."""
    if settings.storage_backend == "local":
        yield LocalBlobStorage(settings.data_dir / "vault")
        return
    assert settings.s3_secret_access_key is not None  # checked with the configuration
    async with S3BlobStorage(endpoint_url=settings.s3_endpoint_url, bucket=settings.s3_bucket,
                             region=settings.s3_region, access_key_id=settings.s3_access_key_id or "",
                             secret_access_key=settings.s3_secret_access_key.reveal()) as storage:
        await storage.ensure_bucket()
        yield storage


def owner_url(settings: Settings) -> str:
    """The schema owner's URL: DATABASE_URL, or the embedded server started on demand."""
    if settings.database_url is not None:
        return settings.database_url.reveal()
    return start_embedded(settings.data_dir)


@contextlib.asynccontextmanager
async def postgres_services(settings: Settings, *, owner: str | None = None, migrate_first: bool = True,
                            clock: Clock | None = None, hasher: PasswordHasher | None = None,
                            providers: ProviderRegistry | None = None) -> AsyncIterator[Services]:
    """Services on PostgreSQL, the application connecting as the RLS-bound role. Disposes the pool on exit."""
    owner = owner or await asyncio.to_thread(owner_url, settings)
    if migrate_first:
        await asyncio.to_thread(migrate.upgrade, owner)
    if settings.database_app_url is not None:
        app_url, set_role = settings.database_app_url.reveal(), False
    elif settings.database_url is None:
        app_url, set_role = as_app_role_url(owner), False
    else:
        app_url, set_role = owner, True
    engine = app_engine(app_url, set_role=set_role)
    queue = ProcrastinateJobQueue(libpq_url(app_url), set_role=APP_ROLE if set_role else None)
    clock = clock or SystemClock()
    limit, window = settings.login_rate_limit
    external = (SupabaseJwtVerifier(settings.supabase_jwt_secret.reveal(), settings.supabase_jwt_audience,
                                    settings.supabase_jwt_issuer) if settings.supabase_jwt_secret else None)
    notifier = PostgresChangeNotifier(engine.url)
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(engine.dispose)
        stack.push_async_callback(notifier.aclose)
        await queue.open()
        stack.push_async_callback(queue.aclose)
        session = await stack.enter_async_context(aiohttp.ClientSession())
        storage = await stack.enter_async_context(blob_storage(settings))
        gateways = providers or http_gateways(session, twilio_base_url=settings.twilio_api_base_url,
                                              graph_base_url=settings.meta_graph_base_url,
                                              graph_version=settings.meta_graph_version)
        services = build_container(
            uows=PostgresUnitOfWorkFactory(engine), storage=storage, notifier=notifier, jobs=queue,
            throttle=PostgresLoginThrottle(engine, clock, window), probe=PostgresProbe(engine),
            limiter=PostgresRateLimiter(engine),
            box=keyring(settings), providers=gateways, clock=clock, hasher=hasher, external=external,
            login_limit=limit, outbound=OutboundSettings(
                settings.quiet_hours_default, status_callback_url=settings.public_base_url.rstrip("/") + TWILIO_WEBHOOK_PATH),
        ).resolve(Services)
        job_registry.bind(queue, services)
        await services.keys.check()
        yield services
