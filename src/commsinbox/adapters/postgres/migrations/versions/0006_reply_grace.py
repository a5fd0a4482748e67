"""a team's reply grace in quiet hours

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

An agent's reply to a customer who wrote within the team's reply grace goes out even in quiet hours. NULL means
the default of 30 minutes; 0 makes replies wait like every business-initiated message.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('teams', sa.Column('reply_grace_minutes', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column('teams', 'reply_grace_minutes')
