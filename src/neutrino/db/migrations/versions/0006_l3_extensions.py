"""L3 extensions: floating IP port forwardings, default external networks, auto-allocated topologies

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 23:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('portforwardings',
    sa.Column('floatingip_id', sa.String(length=36), nullable=False),
    sa.Column('internal_port_id', sa.String(length=36), nullable=False),
    sa.Column('protocol', sa.String(length=40), nullable=False),
    sa.Column('internal_ip_address', sa.String(length=64), nullable=False),
    sa.Column('internal_port_start', sa.Integer(), nullable=False),
    sa.Column('internal_port_end', sa.Integer(), nullable=False),
    sa.Column('external_port_start', sa.Integer(), nullable=False),
    sa.Column('external_port_end', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['floatingip_id'], ['floatingips.id'], name=op.f('fk_portforwardings_floatingip_id_floatingips'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['internal_port_id'], ['ports.id'], name=op.f('fk_portforwardings_internal_port_id_ports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portforwardings')),
    sa.UniqueConstraint('floatingip_id', 'protocol', 'external_port_start', 'external_port_end', name='uq_portforwardings_external'),
    sa.UniqueConstraint('protocol', 'internal_port_id', 'internal_ip_address', 'internal_port_start', 'internal_port_end', name='uq_portforwardings_internal')
    )
    op.create_index(op.f('ix_portforwardings_floatingip_id'), 'portforwardings', ['floatingip_id'], unique=False)
    op.create_index(op.f('ix_portforwardings_internal_port_id'), 'portforwardings', ['internal_port_id'], unique=False)
    op.create_table('external_network_defaults',
    sa.Column('network_id', sa.String(length=36), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_external_network_defaults_network_id_networks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('network_id', name=op.f('pk_external_network_defaults'))
    )
    op.create_table('auto_allocated_topologies',
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('network_id', sa.String(length=36), nullable=False),
    sa.Column('router_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_auto_allocated_topologies_network_id_networks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['router_id'], ['routers.id'], name=op.f('fk_auto_allocated_topologies_router_id_routers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_auto_allocated_topologies'))
    )


def downgrade() -> None:
    op.drop_table('auto_allocated_topologies')
    op.drop_table('external_network_defaults')
    op.drop_index(op.f('ix_portforwardings_internal_port_id'), table_name='portforwardings')
    op.drop_index(op.f('ix_portforwardings_floatingip_id'), table_name='portforwardings')
    op.drop_table('portforwardings')
