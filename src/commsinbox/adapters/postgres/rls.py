"""DDL for row-level security. Migrations call these; docs/tenancy.md explains how to add a tenant table."""
from __future__ import annotations

TEAM = "nullif(current_setting('app.team_id', true), '')::uuid"
USER = "nullif(current_setting('app.user_id', true), '')::uuid"


def app_role_ddl(role: str) -> list[str]:
    """The application's role: may log in, is no superuser and does not bypass RLS."""
    return [
        f"""DO $$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
              END IF;
            END $$""",
        f"ALTER ROLE {role} NOSUPERUSER NOBYPASSRLS",
        f"GRANT {role} TO current_user",  # lets the owner's connection SET ROLE to it
        f"GRANT USAGE ON SCHEMA public TO {role}",
    ]


def grant_ddl(role: str, table: str) -> list[str]:
    return [f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}"]


def tenant_table_ddl(table: str, column: str = "team_id") -> list[str]:
    """ENABLE + FORCE RLS and one policy: rows are visible and writable only for the transaction's team."""
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY team_isolation ON {table} USING ({column} = {TEAM}) WITH CHECK ({column} = {TEAM})",
    ]


def user_visible_ddl(table: str, condition: str) -> list[str]:
    """An extra read policy for a transaction with no team: a user sees the rows `condition` admits."""
    return [f"CREATE POLICY own_rows ON {table} FOR SELECT USING ({TEAM} IS NULL AND ({condition}))"]


def drop_tenant_table_ddl(table: str) -> list[str]:
    return [f"DROP POLICY IF EXISTS own_rows ON {table}", f"DROP POLICY IF EXISTS team_isolation ON {table}",
            f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY", f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"]
