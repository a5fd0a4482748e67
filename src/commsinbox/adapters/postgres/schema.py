"""Every table, in SQLAlchemy Core. Team-scoped tables carry `team_id` and are listed in TEAM_TABLES."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

APP_ROLE = "commsinbox_app"
Id = UUID(as_uuid=False)
Stamp = sa.DateTime(timezone=True)
Money = sa.Numeric(18, 4)


def _team_id() -> sa.Column[str]:
    return sa.Column("team_id", Id, sa.ForeignKey("teams.id", ondelete="CASCADE"), nullable=False)


users = sa.Table(
    "users", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("email", sa.Text, nullable=False, unique=True),
    sa.Column("full_name", sa.Text),
    sa.Column("password_hash", sa.Text),
    sa.Column("created_at", Stamp, nullable=False),
)

auth_tokens = sa.Table(
    "auth_tokens", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("user_id", Id, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("token_hash", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("expires_at", Stamp),
    sa.Column("revoked_at", Stamp),
)

auth_throttle = sa.Table(
    "auth_throttle", metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("window_start", Stamp, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
)

teams = sa.Table(
    "teams", metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("base_currency", sa.String(3), nullable=False),
    sa.Column("timezone", sa.Text, nullable=False),
    sa.Column("quiet_hours", sa.Text),
    sa.Column("plan", sa.Text, nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

team_memberships = sa.Table(
    "team_memberships", metadata,
    _team_id(),
    sa.Column("user_id", Id, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("permissions", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("created_at", Stamp, nullable=False),
    sa.PrimaryKeyConstraint("team_id", "user_id"),
)

team_settings = sa.Table(
    "team_settings", metadata,
    _team_id(),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("value", JSONB, nullable=False),
    sa.Column("updated_at", Stamp, nullable=False),
    sa.PrimaryKeyConstraint("team_id", "key"),
)

clients = sa.Table(
    "clients", metadata,
    sa.Column("id", Id, primary_key=True),
    _team_id(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("phone", sa.Text),
    sa.Column("email", sa.Text),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("team_id", "id"),
    sa.Index("ix_clients_team_created", "team_id", sa.text("created_at DESC"), sa.text("id DESC")),
    sa.Index("ix_clients_team_phone", "team_id", "phone"),
    sa.Index("ix_clients_team_email", "team_id", "email"),
)


def _record(name: str, *columns: sa.Column | sa.Constraint, client_required: bool = False) -> sa.Table:
    """A team record that may point at one of the team's clients (the FK includes team_id)."""
    return sa.Table(
        name, metadata,
        sa.Column("id", Id, primary_key=True),
        _team_id(),
        sa.Column("client_id", Id, nullable=not client_required),
        *columns,
        sa.Column("created_at", Stamp, nullable=False),
        sa.ForeignKeyConstraint(["team_id", "client_id"], ["clients.team_id", "clients.id"], name=f"fk_{name}_client",
                                ondelete="CASCADE" if client_required else "SET NULL (client_id)"),
        sa.Index(f"ix_{name}_team_created", "team_id", sa.text("created_at DESC"), sa.text("id DESC")),
        sa.Index(f"ix_{name}_team_client", "team_id", "client_id"),
    )


orders = _record("orders", sa.Column("number", sa.Text, nullable=False), sa.Column("amount", Money),
                 sa.Column("currency", sa.String(3)), sa.UniqueConstraint("team_id", "number"))
invoices = _record("invoices", sa.Column("number", sa.Text, nullable=False), sa.Column("amount", Money),
                   sa.Column("currency", sa.String(3)), sa.UniqueConstraint("team_id", "number"))
transactions = _record("transactions", sa.Column("amount", Money, nullable=False),
                       sa.Column("currency", sa.String(3), nullable=False), sa.Column("description", sa.Text))
measurements = _record("measurements", sa.Column("name", sa.Text, nullable=False),
                       sa.Column("value", Money, nullable=False), sa.Column("unit", sa.Text), client_required=True)

vault_files = sa.Table(
    "vault_files", metadata,
    _team_id(),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("content_type", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("checksum", sa.String(64), nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.PrimaryKeyConstraint("team_id", "path"),
)

# Row-level security: every table here has ENABLE + FORCE RLS and a team policy (see the migration).
TEAM_TABLES = ("teams", "team_memberships", "team_settings", "clients", "orders", "invoices", "transactions",
               "measurements", "vault_files")
APP_TABLES = ("users", "auth_tokens", "auth_throttle", *TEAM_TABLES)
