"""Shared fixtures: services on memory or PostgreSQL, an API client, and seeded teams."""
from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import attrs
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from commsinbox.adapters.crypto.passwords import ScryptPasswordHasher
from commsinbox.domain.model.ids import TeamId, UserId
from commsinbox.domain.model.values import Role
from commsinbox.domain.usecases.access import Actor
from commsinbox.entrypoints.config import Settings
from commsinbox.entrypoints.container import Services, memory_services, postgres_services
from tests.support import postgres
from tests.support.factories import PASSWORD, random_email, random_team_name

FAST_HASHER = ScryptPasswordHasher(n=2**10)  # real scrypt, cheaper parameters for tests


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", default="memory", choices=["memory", "postgres"],
                     help="backend for BDD features (contract tests always run both)")


@pytest.fixture(scope="session")
def pg_owner_url() -> str:
    """The owner's URL of a migrated PostgreSQL shared by the session."""
    return postgres.owner_url()


TEST_KEYRING = "test-1:" + base64.b64encode(b"k" * 32).decode()  # one keyring for the whole shared test database


def settings_for(tmp_path: Path, owner_url: str | None = None, **extra: str) -> Settings:
    env = {"COMMSINBOX_DATA_DIR": str(tmp_path), "CREDENTIALS_ENCRYPTION_KEYS": TEST_KEYRING, **extra}
    if owner_url:
        env["DATABASE_URL"] = owner_url
    return Settings.from_env(env)


@pytest.fixture
def fresh_database(pg_owner_url: str) -> Iterator[str]:
    """An empty database of its own on the test server (for tests that change what is shared)."""
    name = f"fresh_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg_owner_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    yield make_url(pg_owner_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
async def memory() -> Services:
    return memory_services(hasher=FAST_HASHER)


@pytest.fixture
async def pg_services(pg_owner_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    settings = settings_for(tmp_path, pg_owner_url)
    async with postgres_services(settings, owner=pg_owner_url, migrate_first=False, hasher=FAST_HASHER) as s:
        yield s


@pytest.fixture(params=["memory", "postgres"])
def services(request: pytest.FixtureRequest) -> Services:
    """The same assertions against both adapters, so the in-memory one cannot drift."""
    return request.getfixturevalue("memory" if request.param == "memory" else "pg_services")


@attrs.frozen
class Member:
    email: str
    user_id: UserId
    team_id: TeamId
    actor: Actor


async def make_team(services: Services, role: Role = Role.OWNER) -> Member:
    """A new team with one user of `role` (who can log in with PASSWORD)."""
    email = random_email()
    user, team_id = await services.accounts.create_user(email, PASSWORD, team=random_team_name(), role=role)
    assert team_id is not None
    actor = await services.access.resolve(user.id, team_id)
    return Member(email, user.id, team_id, actor)


async def join(services: Services, owner: Member, role: Role) -> Member:
    """Another user in `owner`'s team with `role`."""
    email = random_email(role.value)
    user, _ = await services.accounts.create_user(email, PASSWORD, team=owner.team_id, role=role)
    return Member(email, user.id, owner.team_id, await services.access.resolve(user.id, owner.team_id))


@pytest.fixture
async def api_for(aiohttp_client, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Builds an API client over the given services (memory or PostgreSQL)."""
    from commsinbox.entrypoints.web.app import create_app
    from tests.support.api import Api

    async def build(services: Services) -> Api:
        return Api(await aiohttp_client(create_app(settings_for(tmp_path), services)))

    return build
