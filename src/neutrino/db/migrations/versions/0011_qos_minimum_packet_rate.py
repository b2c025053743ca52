"""qos_rules.min_kpps: QoS minimum packet rate rules (qos-pps-minimum)

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-05 02:50:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('qos_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_kpps', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('qos_rules', schema=None) as batch_op:
        batch_op.drop_column('min_kpps')
