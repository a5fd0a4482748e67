"""Migrations: the stairway (up, down, up again) and idempotent `commsinbox migrate` on a fresh database."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from alembic.script import ScriptDirectory
import sqlalchemy as sa

from commsinbox.adapters.jobs.procrastinate_schema import is_procrastinate_table
from commsinbox.adapters.postgres import migrate, schema

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    # procrastinate's job tables come from its own schema, not from alembic (ADR 0012): downgrading to base keeps
    # them, and they are not in schema.metadata.
    return {n for n in names if not is_procrastinate_table(n)} - {"alembic_version"}


def test_stairway_up_down_up(fresh_database: str) -> None:
    migrate.upgrade(fresh_database)
    assert tables(fresh_database) == set(schema.metadata.tables)
    migrate.downgrade(fresh_database, "base")
    assert tables(fresh_database) == set()
    migrate.upgrade(fresh_database)
    assert tables(fresh_database) == set(schema.metadata.tables)


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "commsinbox.entrypoints.cli", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})


def test_migrate_twice_changes_nothing_and_create_user_prints_ids(fresh_database: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    libpq_style = fresh_database.replace("postgresql+psycopg://", "postgres://")  # as hosting providers print it
    env = {"DATABASE_URL": libpq_style, "COMMSINBOX_DATA_DIR": str(tmp_path)}
    first, second = cli("migrate", env=env), cli("migrate", env=env)
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    head = ScriptDirectory.from_config(migrate.alembic_config(fresh_database)).get_current_head()
    assert json.loads(first.stdout) == json.loads(second.stdout) == {"status": "ok", "revision": head}
    created = cli("create-user", "--email", "Owner@Example.com", "--password", "a long password",
                  "--team", "Loja da Ana", env=env)
    assert created.returncode == 0, created.stderr
    ids = json.loads(created.stdout)
    joined = cli("create-user", "--email", "agent@example.com", "--password", "a long password",
                 "--team", ids["teamId"], "--role", "agent", env=env)
    assert json.loads(joined.stdout)["teamId"] == ids["teamId"]
    again = cli("create-user", "--email", "owner@example.com", "--password", "a long password", env=env)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_a_bad_setting_stops_start_up_naming_the_variable_not_the_value() -> None:
    result = cli("migrate", env={"QUIET_HOURS_DEFAULT": "9pm-8am-secretish"})
    assert result.returncode == 2
    assert "QUIET_HOURS_DEFAULT" in result.stderr and "HH:MM-HH:MM" in result.stderr
    assert "secretish" not in result.stderr + result.stdout


def test_the_migrations_build_exactly_the_declared_schema(fresh_database: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    migrate.upgrade(fresh_database)
    engine = sa.create_engine(fresh_database, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        # procrastinate's tables are left out explicitly: alembic does not declare them (ADR 0012).
        context = MigrationContext.configure(conn, opts={"include_name": lambda name, kind, parent: not (
            kind == "table" and name is not None and is_procrastinate_table(name))})
        differences = compare_metadata(context, schema.metadata)
    engine.dispose()
    assert differences == []
