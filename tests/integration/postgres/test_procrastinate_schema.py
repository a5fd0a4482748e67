"""procrastinate's schema under `commsinbox migrate`: created once, upgraded by its own migrations, granted to the
application role, and never applied over tables it did not create."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from procrastinate.schema import SchemaManager

from commsinbox.adapters.jobs import procrastinate_schema
from commsinbox.adapters.postgres import migrate
from commsinbox.adapters.postgres.schema import APP_ROLE

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def query(url: str, statement: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(sa.text(statement))]
    engine.dispose()
    return rows


def procrastinate_objects(url: str) -> list[tuple[object, ...]]:
    """Every procrastinate relation and function with its privileges: what a second migrate must not change."""
    return query(url, """
        SELECT 'rel', relname, relkind::text, coalesce(relacl::text, '') FROM pg_class
        WHERE relname LIKE 'procrastinate%' AND relnamespace = 'public'::regnamespace
        UNION ALL
        SELECT 'fn', oid::regprocedure::text, '', coalesce(proacl::text, '') FROM pg_proc
        WHERE proname LIKE 'procrastinate%' AND pronamespace = 'public'::regnamespace
        ORDER BY 1, 2""")


def test_migrate_creates_procrastinate_once_and_a_second_run_changes_nothing(fresh_database: str) -> None:
    migrate.upgrade(fresh_database)
    first = procrastinate_objects(fresh_database)
    assert {"procrastinate_jobs", "procrastinate_workers", "procrastinate_events", "procrastinate_periodic_defers",
            procrastinate_schema.VERSION_TABLE} <= {r[1] for r in first}
    assert query(fresh_database, f"SELECT migration FROM {procrastinate_schema.VERSION_TABLE}") == [
        (procrastinate_schema.migrations()[-1],)]
    migrate.upgrade(fresh_database)
    assert procrastinate_objects(fresh_database) == first
    assert query(fresh_database, f"SELECT count(*) FROM {procrastinate_schema.VERSION_TABLE}") == [(1,)]


def test_the_application_role_may_use_the_job_tables_and_functions_but_not_the_version_table(
        fresh_database: str) -> None:
    migrate.upgrade(fresh_database)
    rows = query(fresh_database, f"""
        SELECT has_table_privilege('{APP_ROLE}', 'procrastinate_jobs', 'SELECT, INSERT, UPDATE, DELETE'),
               has_table_privilege('{APP_ROLE}', 'procrastinate_workers', 'INSERT, DELETE'),
               has_sequence_privilege('{APP_ROLE}', 'procrastinate_jobs_id_seq', 'USAGE'),
               has_function_privilege('{APP_ROLE}', 'procrastinate_fetch_job_v2(character varying[], bigint)',
                                      'EXECUTE'),
               has_table_privilege('{APP_ROLE}', '{procrastinate_schema.VERSION_TABLE}', 'SELECT')""")
    assert rows == [(True, True, True, True, False)]


def test_a_newer_procrastinate_migration_is_applied_once_and_granted(fresh_database: str, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    migrate.upgrade(fresh_database)
    shipped = tmp_path / "migrations"
    shutil.copytree(SchemaManager.get_migrations_path(), shipped)
    (shipped / "99.00.00_01_pre_add_probe.sql").write_text(
        "CREATE TABLE procrastinate_probe (id bigserial PRIMARY KEY);\n"
        "CREATE FUNCTION procrastinate_probe_v1() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n")
    monkeypatch.setattr(SchemaManager, "get_migrations_path", staticmethod(lambda: str(shipped)))
    assert procrastinate_schema.apply(fresh_database, APP_ROLE) == "99.00.00_01_pre_add_probe"
    assert procrastinate_schema.apply(fresh_database, APP_ROLE) == "99.00.00_01_pre_add_probe"  # not again
    assert query(fresh_database, f"""
        SELECT has_table_privilege('{APP_ROLE}', 'procrastinate_probe', 'INSERT'),
               has_function_privilege('{APP_ROLE}', 'procrastinate_probe_v1()', 'EXECUTE')""") == [(True, True)]


def test_procrastinate_tables_made_elsewhere_are_not_overwritten(fresh_database: str) -> None:
    engine = sa.create_engine(fresh_database, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE procrastinate_jobs (id bigint)"))
    engine.dispose()
    with pytest.raises(RuntimeError, match="not created by `commsinbox migrate`"):
        procrastinate_schema.apply(fresh_database, APP_ROLE)
