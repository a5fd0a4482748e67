"""procrastinate's tables, types and functions, applied by `commsinbox migrate` after the alembic migrations.

They live beside the alembic-managed schema, not in it (ADR 0012): procrastinate ships its own schema and its own
upgrade scripts, and `procrastinate_schema_version` remembers the last of those scripts this database has.

- An empty database gets procrastinate's `schema.sql` (equal to all its migrations so far) and the name of the
  newest migration shipped with the installed procrastinate.
- A database that has them gets each newer migration of the installed procrastinate, in name order (the names
  start with the version), one transaction each. So upgrading procrastinate upgrades its schema with the next
  `commsinbox migrate`.
- Either way, the application role gets what procrastinate needs on every `procrastinate_*` table, sequence and
  function: re-running the grants is how new objects from an upgrade get them.

One advisory lock (the one the alembic run holds) serialises concurrent `migrate`s; running it twice changes
nothing.
"""
from __future__ import annotations

import logging
from pathlib import Path

import psycopg
from procrastinate.schema import SchemaManager
from psycopg import sql
from sqlalchemy.engine import make_url

log = logging.getLogger("commsinbox.jobs")

VERSION_TABLE = "procrastinate_schema_version"
MIGRATION_LOCK = 0x636F6D6D  # the key migrations/env.py holds around alembic: one schema change at a time


def libpq_url(url: str) -> str:
    """`postgresql+psycopg://…` (SQLAlchemy style) → `postgresql://…` for psycopg and libpq."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def migrations() -> list[str]:
    """The names (without .sql) of the migrations the installed procrastinate ships, oldest first."""
    return sorted(p.stem for p in Path(SchemaManager.get_migrations_path()).glob("*.sql"))


def is_procrastinate_table(name: str) -> bool:
    """procrastinate's tables and our version table: not part of the alembic-declared schema."""
    return name.startswith("procrastinate_")


def apply(owner_url: str, app_role: str) -> str:
    """Creates or upgrades procrastinate's schema and grants `app_role` its use; returns the newest migration
    the database now has."""
    with psycopg.connect(libpq_url(owner_url), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            current = _upgrade(conn)
            with conn.transaction():
                conn.execute(_grants(app_role))
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    return current


def _upgrade(conn: psycopg.Connection) -> str:
    shipped = migrations()
    with conn.transaction():
        conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (migration text NOT NULL)").format(
            sql.Identifier(VERSION_TABLE)))
        row = conn.execute(sql.SQL("SELECT migration FROM {}").format(sql.Identifier(VERSION_TABLE))).fetchone()
        if row is None:
            if conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone() != (None,):
                raise RuntimeError(
                    "procrastinate's tables exist but were not created by `commsinbox migrate`: insert the name of "
                    f"the newest procrastinate migration they include into {VERSION_TABLE}, then migrate again")
            conn.execute(SchemaManager.get_schema())  # no parameters: psycopg leaves the '%' in it alone
            conn.execute(sql.SQL("INSERT INTO {} (migration) VALUES (%s)").format(sql.Identifier(VERSION_TABLE)),
                         (shipped[-1],))
            log.info("procrastinate schema created", extra={"migration": shipped[-1]})
            return shipped[-1]
    current = str(row[0])
    if current > shipped[-1]:
        log.warning("the database has procrastinate migrations newer than the installed procrastinate",
                    extra={"migration": current, "newest_installed": shipped[-1]})
        return current
    for name in (m for m in shipped if m > current):
        with conn.transaction():
            conn.execute((Path(SchemaManager.get_migrations_path()) / f"{name}.sql").read_text(encoding="utf-8"))
            conn.execute(sql.SQL("UPDATE {} SET migration = %s").format(sql.Identifier(VERSION_TABLE)), (name,))
        log.info("procrastinate migration applied", extra={"migration": name})
        current = name
    return current


def _grants(role: str) -> sql.Composed:
    """DML on procrastinate's tables, use of its sequences, EXECUTE on its functions (its types are usable by
    everyone already). Nothing on the version table: only `migrate` needs it."""
    return sql.SQL("""
        DO $$
        DECLARE
            app_role text := {role};
            r record;
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = app_role) THEN
                RETURN;
            END IF;
            FOR r IN SELECT c.oid::regclass AS name, c.relkind
                     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = current_schema() AND c.relname LIKE 'procrastinate\\_%'
                       AND c.relname <> {version} AND c.relkind IN ('r', 'S') LOOP
                IF r.relkind = 'r' THEN
                    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE %s TO %I', r.name, app_role);
                ELSE
                    EXECUTE format('GRANT USAGE, SELECT, UPDATE ON SEQUENCE %s TO %I', r.name, app_role);
                END IF;
            END LOOP;
            FOR r IN SELECT p.oid::regprocedure AS name
                     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%' LOOP
                EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', r.name, app_role);
            END LOOP;
        END $$""").format(role=sql.Literal(role), version=sql.Literal(VERSION_TABLE))
