"""Alembic environment: runs as the schema owner, one migration run at a time (advisory lock)."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from commsinbox.adapters.postgres.schema import metadata

MIGRATION_LOCK = 0x636F6D6D  # any constant shared by every `commsinbox migrate`


def run() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        connection.execute(sa.text("select pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
        connection.commit()
        try:
            context.configure(connection=connection, target_metadata=metadata, transaction_per_migration=True)
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            connection.execute(sa.text("select pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
            connection.commit()
    engine.dispose()


run()
