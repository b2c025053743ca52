"""rbac_policies (with the wildcard policies of shared and external networks), subnet_service_types,
availability zone hints of networks and routers, (is_default is auto_allocate's, 0006; segments' standard attributes are 0007's)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 23:40:00.000000
"""

import uuid

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    rbac = op.create_table('rbac_policies',
    sa.Column('object_type', sa.String(length=64), nullable=False),
    sa.Column('object_id', sa.String(length=36), nullable=False),
    sa.Column('action', sa.String(length=255), nullable=False),
    sa.Column('target_project', sa.String(length=255), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rbac_policies')),
    sa.UniqueConstraint('object_type', 'object_id', 'action', 'target_project',
                        name=op.f('uq_rbac_policies_object_type_object_id_action_target_project')),
    )
    op.create_index('ix_rbac_policies_object', 'rbac_policies', ['object_id', 'action'], unique=False)
    op.create_index(op.f('ix_rbac_policies_project_id'), 'rbac_policies', ['project_id'], unique=False)
    op.create_index(op.f('ix_rbac_policies_target_project'), 'rbac_policies', ['target_project'], unique=False)
    op.create_table('subnet_service_types',
    sa.Column('subnet_id', sa.String(length=36), nullable=False),
    sa.Column('service_type', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['subnet_id'], ['subnets.id'], name=op.f('fk_subnet_service_types_subnet_id_subnets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('subnet_id', 'service_type', name=op.f('pk_subnet_service_types')),
    )
    with op.batch_alter_table('networks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('az_hints', sa.String(length=255), nullable=False, server_default=''))
    with op.batch_alter_table('routers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('az_hints', sa.String(length=255), nullable=False, server_default=''))
    # shared and external networks of before get the wildcard policies Neutron would have made
    conn = op.get_bind()
    rows = []
    for net_id, project, shared, external in conn.execute(
        sa.text('SELECT id, project_id, shared, router_external FROM networks')
    ):
        for flag, action in ((shared, 'access_as_shared'), (external, 'access_as_external')):
            if flag:
                rows.append({'id': str(uuid.uuid4()), 'project_id': project, 'object_type': 'network',
                             'object_id': net_id, 'action': action, 'target_project': '*'})
    if rows:
        op.bulk_insert(rbac, rows)


def downgrade() -> None:
    with op.batch_alter_table('routers', schema=None) as batch_op:
        batch_op.drop_column('az_hints')
    with op.batch_alter_table('networks', schema=None) as batch_op:
        batch_op.drop_column('az_hints')
    op.drop_table('subnet_service_types')
    op.drop_index(op.f('ix_rbac_policies_target_project'), table_name='rbac_policies')
    op.drop_index(op.f('ix_rbac_policies_project_id'), table_name='rbac_policies')
    op.drop_index('ix_rbac_policies_object', table_name='rbac_policies')
    op.drop_table('rbac_policies')
