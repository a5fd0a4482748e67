"""tenancy foundation

Revision ID: 0001
Revises:
Create Date: 2026-11-24

Tenancy foundation: users and tokens, teams and memberships, the team's business records, and the
application role with row-level security ENABLEd and FORCEd on every team table.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from commsinbox.adapters.postgres import rls

APP_ROLE = "commsinbox_app"
TEAM_TABLES = ("teams", "team_memberships", "team_settings", "clients", "orders", "invoices", "transactions",
               "measurements", "vault_files")
APP_TABLES = ("users", "auth_tokens", "auth_throttle", *TEAM_TABLES)

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('auth_throttle',
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_auth_throttle'))
    )
    op.create_table('teams',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('base_currency', sa.String(length=3), nullable=False),
    sa.Column('timezone', sa.Text(), nullable=False),
    sa.Column('quiet_hours', sa.Text(), nullable=True),
    sa.Column('plan', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams'))
    )
    op.create_table('users',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('full_name', sa.Text(), nullable=True),
    sa.Column('password_hash', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('auth_tokens',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('token_hash', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_auth_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_auth_tokens_token_hash'))
    )
    op.create_index(op.f('ix_auth_tokens_user_id'), 'auth_tokens', ['user_id'], unique=False)
    op.create_table('clients',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_clients_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clients')),
    sa.UniqueConstraint('team_id', 'id', name=op.f('uq_clients_team_id_id'))
    )
    op.create_index('ix_clients_team_created', 'clients', ['team_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_index('ix_clients_team_email', 'clients', ['team_id', 'email'], unique=False)
    op.create_index('ix_clients_team_phone', 'clients', ['team_id', 'phone'], unique=False)
    op.create_table('team_memberships',
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('user_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('permissions', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_memberships_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_team_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'user_id', name=op.f('pk_team_memberships'))
    )
    op.create_index(op.f('ix_team_memberships_user_id'), 'team_memberships', ['user_id'], unique=False)
    op.create_table('team_settings',
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('key', sa.Text(), nullable=False),
    sa.Column('value', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_settings_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'key', name=op.f('pk_team_settings'))
    )
    op.create_table('vault_files',
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('content_type', sa.Text(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_vault_files_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'path', name=op.f('pk_vault_files'))
    )
    op.create_table('invoices',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('client_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('number', sa.Text(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id', 'client_id'], ['clients.team_id', 'clients.id'], name='fk_invoices_client', ondelete='SET NULL (client_id)'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_invoices_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('team_id', 'number', name=op.f('uq_invoices_team_id_number'))
    )
    op.create_index('ix_invoices_team_client', 'invoices', ['team_id', 'client_id'], unique=False)
    op.create_index('ix_invoices_team_created', 'invoices', ['team_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_table('measurements',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('client_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('unit', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id', 'client_id'], ['clients.team_id', 'clients.id'], name='fk_measurements_client', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_measurements_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measurements'))
    )
    op.create_index('ix_measurements_team_client', 'measurements', ['team_id', 'client_id'], unique=False)
    op.create_index('ix_measurements_team_created', 'measurements', ['team_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_table('orders',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('client_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('number', sa.Text(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id', 'client_id'], ['clients.team_id', 'clients.id'], name='fk_orders_client', ondelete='SET NULL (client_id)'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_orders_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('team_id', 'number', name=op.f('uq_orders_team_id_number'))
    )
    op.create_index('ix_orders_team_client', 'orders', ['team_id', 'client_id'], unique=False)
    op.create_index('ix_orders_team_created', 'orders', ['team_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)
    op.create_table('transactions',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('client_id', sa.UUID(as_uuid=False), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id', 'client_id'], ['clients.team_id', 'clients.id'], name='fk_transactions_client', ondelete='SET NULL (client_id)'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_transactions_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transactions'))
    )
    op.create_index('ix_transactions_team_client', 'transactions', ['team_id', 'client_id'], unique=False)
    op.create_index('ix_transactions_team_created', 'transactions', ['team_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False)

    for statement in rls.app_role_ddl(APP_ROLE):
        op.execute(statement)
    for table in APP_TABLES:
        for statement in rls.grant_ddl(APP_ROLE, table):
            op.execute(statement)
    for table in TEAM_TABLES:
        column = "id" if table == "teams" else "team_id"
        for statement in rls.tenant_table_ddl(table, column):
            op.execute(statement)
    for statement in rls.user_visible_ddl("team_memberships", f"user_id = {rls.USER}"):
        op.execute(statement)
    for statement in rls.user_visible_ddl(
            "teams", f"id IN (SELECT m.team_id FROM team_memberships m WHERE m.user_id = {rls.USER})"):
        op.execute(statement)


def downgrade() -> None:
    for table in TEAM_TABLES:
        for statement in rls.drop_tenant_table_ddl(table):
            op.execute(statement)
    op.drop_index('ix_transactions_team_created', table_name='transactions')
    op.drop_index('ix_transactions_team_client', table_name='transactions')
    op.drop_table('transactions')
    op.drop_index('ix_orders_team_created', table_name='orders')
    op.drop_index('ix_orders_team_client', table_name='orders')
    op.drop_table('orders')
    op.drop_index('ix_measurements_team_created', table_name='measurements')
    op.drop_index('ix_measurements_team_client', table_name='measurements')
    op.drop_table('measurements')
    op.drop_index('ix_invoices_team_created', table_name='invoices')
    op.drop_index('ix_invoices_team_client', table_name='invoices')
    op.drop_table('invoices')
    op.drop_table('vault_files')
    op.drop_table('team_settings')
    op.drop_index(op.f('ix_team_memberships_user_id'), table_name='team_memberships')
    op.drop_table('team_memberships')
    op.drop_index('ix_clients_team_phone', table_name='clients')
    op.drop_index('ix_clients_team_email', table_name='clients')
    op.drop_index('ix_clients_team_created', table_name='clients')
    op.drop_table('clients')
    op.drop_index(op.f('ix_auth_tokens_user_id'), table_name='auth_tokens')
    op.drop_table('auth_tokens')
    op.drop_table('users')
    op.drop_table('teams')
    op.drop_table('auth_throttle')
