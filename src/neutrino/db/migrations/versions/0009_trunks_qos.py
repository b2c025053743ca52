"""trunks and trunk_subports (the trunk service); QoS policies, rules, defaults and bindings

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 23:40:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('trunks',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('admin_state_up', sa.Boolean(), nullable=False),
    sa.Column('port_id', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['port_id'], ['ports.id'], name=op.f('fk_trunks_port_id_ports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trunks')),
    sa.UniqueConstraint('port_id', name=op.f('uq_trunks_port_id'))
    )
    op.create_index(op.f('ix_trunks_project_id'), 'trunks', ['project_id'], unique=False)
    op.create_table('trunk_subports',
    sa.Column('port_id', sa.String(length=36), nullable=False),
    sa.Column('trunk_id', sa.String(length=36), nullable=False),
    sa.Column('segmentation_type', sa.String(length=32), nullable=False),
    sa.Column('segmentation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['port_id'], ['ports.id'], name=op.f('fk_trunk_subports_port_id_ports')),
    sa.ForeignKeyConstraint(['trunk_id'], ['trunks.id'], name=op.f('fk_trunk_subports_trunk_id_trunks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('port_id', name=op.f('pk_trunk_subports')),
    sa.UniqueConstraint('trunk_id', 'segmentation_type', 'segmentation_id', name=op.f('uq_trunk_subports_trunk_id_segmentation_type_segmentation_id'))
    )
    op.create_index(op.f('ix_trunk_subports_trunk_id'), 'trunk_subports', ['trunk_id'], unique=False)
    op.create_table('qos_policies',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qos_policies'))
    )
    op.create_index(op.f('ix_qos_policies_project_id'), 'qos_policies', ['project_id'], unique=False)
    op.create_table('qos_rules',
    sa.Column('qos_policy_id', sa.String(length=36), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=True),
    sa.Column('max_kbps', sa.Integer(), nullable=True),
    sa.Column('max_burst_kbps', sa.Integer(), nullable=True),
    sa.Column('min_kbps', sa.Integer(), nullable=True),
    sa.Column('dscp_mark', sa.Integer(), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['qos_policy_id'], ['qos_policies.id'], name=op.f('fk_qos_rules_qos_policy_id_qos_policies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qos_rules'))
    )
    op.create_index(op.f('ix_qos_rules_qos_policy_id'), 'qos_rules', ['qos_policy_id'], unique=False)
    op.create_table('qos_default_policies',
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('qos_policy_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['qos_policy_id'], ['qos_policies.id'], name=op.f('fk_qos_default_policies_qos_policy_id_qos_policies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_qos_default_policies'))
    )
    op.create_table('qos_port_bindings',
    sa.Column('port_id', sa.String(length=36), nullable=False),
    sa.Column('qos_policy_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['port_id'], ['ports.id'], name=op.f('fk_qos_port_bindings_port_id_ports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['qos_policy_id'], ['qos_policies.id'], name=op.f('fk_qos_port_bindings_qos_policy_id_qos_policies')),
    sa.PrimaryKeyConstraint('port_id', name=op.f('pk_qos_port_bindings'))
    )
    op.create_index(op.f('ix_qos_port_bindings_qos_policy_id'), 'qos_port_bindings', ['qos_policy_id'], unique=False)
    op.create_table('qos_network_bindings',
    sa.Column('network_id', sa.String(length=36), nullable=False),
    sa.Column('qos_policy_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_qos_network_bindings_network_id_networks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['qos_policy_id'], ['qos_policies.id'], name=op.f('fk_qos_network_bindings_qos_policy_id_qos_policies')),
    sa.PrimaryKeyConstraint('network_id', name=op.f('pk_qos_network_bindings'))
    )
    op.create_index(op.f('ix_qos_network_bindings_qos_policy_id'), 'qos_network_bindings', ['qos_policy_id'], unique=False)

def downgrade() -> None:
    for table in ('qos_network_bindings', 'qos_port_bindings', 'qos_default_policies', 'qos_rules', 'qos_policies'):
        op.drop_table(table)
    op.drop_index(op.f('ix_trunk_subports_trunk_id'), table_name='trunk_subports')
    op.drop_table('trunk_subports')
    op.drop_index(op.f('ix_trunks_project_id'), table_name='trunks')
    op.drop_table('trunks')
