"""qos_rules.min_kpps: QoS minimum packet rate rules (qos-pps-minimum); conntrack_helpers of routers (l3-conntrack-helper)

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-05 02:50:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('qos_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_kpps', sa.Integer(), nullable=True))
    op.create_table('conntrack_helpers',
    sa.Column('router_id', sa.String(length=36), nullable=False),
    sa.Column('protocol', sa.String(length=40), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('helper', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['router_id'], ['routers.id'], name=op.f('fk_conntrack_helpers_router_id_routers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conntrack_helpers')),
    sa.UniqueConstraint('router_id', 'protocol', 'port', 'helper', name='uq_conntrack_helpers0')
    )
    op.create_index(op.f('ix_conntrack_helpers_router_id'), 'conntrack_helpers', ['router_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_conntrack_helpers_router_id'), table_name='conntrack_helpers')
    op.drop_table('conntrack_helpers')
    with op.batch_alter_table('qos_rules', schema=None) as batch_op:
        batch_op.drop_column('min_kpps')
