"""Create or upgrade the schema (`commsinbox migrate`): the alembic migrations, then procrastinate's job tables
(ADR 0012). Idempotent: running it twice changes nothing."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from ..jobs import procrastinate_schema
from .engine import sqlalchemy_url
from .schema import APP_ROLE

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(owner_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(owner_url).replace("%", "%%"))
    return config


def upgrade(owner_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(owner_url), revision)
    procrastinate_schema.apply(owner_url, APP_ROLE)


def downgrade(owner_url: str, revision: str) -> None:
    command.downgrade(alembic_config(owner_url), revision)


def current(owner_url: str) -> str | None:
    import sqlalchemy as sa
    from alembic.runtime.migration import MigrationContext

    engine = sa.create_engine(sqlalchemy_url(owner_url), poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    return revision
