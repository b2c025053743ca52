"""HA routers: ha_routers (VRRP id per router), ha_router_networks (one per project) and
ha_router_agent_port_bindings (the HA port and VRRP state per router and L3 agent)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 02:50:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ha_routers',
    sa.Column('router_id', sa.String(length=36), nullable=False),
    sa.Column('network_id', sa.String(length=36), nullable=True),
    sa.Column('vr_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_ha_routers_network_id_networks'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['router_id'], ['routers.id'], name=op.f('fk_ha_routers_router_id_routers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('router_id', name=op.f('pk_ha_routers')),
    sa.UniqueConstraint('network_id', 'vr_id', name=op.f('uq_ha_routers_network_id_vr_id'))
    )
    op.create_table('ha_router_networks',
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('network_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_ha_router_networks_network_id_networks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_ha_router_networks')),
    sa.UniqueConstraint('network_id', name=op.f('uq_ha_router_networks_network_id'))
    )
    op.create_table('ha_router_agent_port_bindings',
    sa.Column('port_id', sa.String(length=36), nullable=False),
    sa.Column('router_id', sa.String(length=36), nullable=False),
    sa.Column('l3_agent_id', sa.String(length=36), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['l3_agent_id'], ['agents.id'], name=op.f('fk_ha_router_agent_port_bindings_l3_agent_id_agents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['port_id'], ['ports.id'], name=op.f('fk_ha_router_agent_port_bindings_port_id_ports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['router_id'], ['routers.id'], name=op.f('fk_ha_router_agent_port_bindings_router_id_routers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('port_id', name=op.f('pk_ha_router_agent_port_bindings')),
    sa.UniqueConstraint('router_id', 'l3_agent_id', name=op.f('uq_ha_router_agent_port_bindings_router_id_l3_agent_id'))
    )
    op.create_index(op.f('ix_ha_router_agent_port_bindings_router_id'), 'ha_router_agent_port_bindings', ['router_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ha_router_agent_port_bindings_router_id'), table_name='ha_router_agent_port_bindings')
    op.drop_table('ha_router_agent_port_bindings')
    op.drop_table('ha_router_networks')
    op.drop_table('ha_routers')
