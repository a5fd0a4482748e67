"""message templates

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25

WhatsApp message templates of a team's accounts (team data, RLS): one per account, name and language. `status`
is ours until submitted (draft), then follows the provider's review (pending → approved / rejected with its
reason, paused, disabled); `provider_template_id` is Meta's template id or Twilio's ContentSid.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from commsinbox.adapters.postgres import rls

APP_ROLE = "commsinbox_app"

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('message_templates',
    sa.Column('id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('team_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('account_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('language', sa.Text(), nullable=False),
    sa.Column('category', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('variable_count', sa.Integer(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('provider_template_id', sa.Text(), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'pending', 'approved', 'rejected', 'paused', 'disabled')",
                       name=op.f('ck_message_templates_status')),
    sa.CheckConstraint("category IN ('marketing', 'utility', 'authentication')",
                       name=op.f('ck_message_templates_category')),
    sa.ForeignKeyConstraint(['team_id', 'account_id'], ['communication_accounts.team_id',
                            'communication_accounts.id'], name=op.f('fk_message_templates_account'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_templates')),
    sa.UniqueConstraint('team_id', 'account_id', 'name', 'language',
                        name=op.f('uq_message_templates_team_id_account_id_name_language'))
    )
    op.create_index('ix_message_templates_provider_id', 'message_templates', ['account_id', 'provider_template_id'],
                    unique=False)
    for statement in (*rls.grant_ddl(APP_ROLE, 'message_templates'), *rls.tenant_table_ddl('message_templates')):
        op.execute(statement)


def downgrade() -> None:
    for statement in rls.drop_tenant_table_ddl('message_templates'):
        op.execute(statement)
    op.drop_index('ix_message_templates_provider_id', table_name='message_templates')
    op.drop_table('message_templates')
