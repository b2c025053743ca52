"""subnet pools, their prefixes, address scopes; subnets.subnetpool_id

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 23:20:16.390665
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('address_scopes',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('ip_version', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_address_scopes'))
    )
    with op.batch_alter_table('address_scopes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_address_scopes_project_id'), ['project_id'], unique=False)

    op.create_table('subnetpools',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('ip_version', sa.Integer(), nullable=False),
    sa.Column('default_prefixlen', sa.Integer(), nullable=False),
    sa.Column('min_prefixlen', sa.Integer(), nullable=False),
    sa.Column('max_prefixlen', sa.Integer(), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('default_quota', sa.Integer(), nullable=True),
    sa.Column('address_scope_id', sa.String(length=36), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subnetpools'))
    )
    with op.batch_alter_table('subnetpools', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subnetpools_address_scope_id'), ['address_scope_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subnetpools_project_id'), ['project_id'], unique=False)

    op.create_table('subnetpool_prefixes',
    sa.Column('subnetpool_id', sa.String(length=36), nullable=False),
    sa.Column('cidr', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['subnetpool_id'], ['subnetpools.id'], name=op.f('fk_subnetpool_prefixes_subnetpool_id_subnetpools'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('subnetpool_id', 'cidr', name=op.f('pk_subnetpool_prefixes'))
    )
    with op.batch_alter_table('subnets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subnetpool_id', sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_subnets_subnetpool_id'), ['subnetpool_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('subnets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subnets_subnetpool_id'))
        batch_op.drop_column('subnetpool_id')

    op.drop_table('subnetpool_prefixes')
    with op.batch_alter_table('subnetpools', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subnetpools_project_id'))
        batch_op.drop_index(batch_op.f('ix_subnetpools_address_scope_id'))

    op.drop_table('subnetpools')
    with op.batch_alter_table('address_scopes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_address_scopes_project_id'))

    op.drop_table('address_scopes')
