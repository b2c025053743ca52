"""flavors, serviceprofiles, flavorserviceprofilebindings (the flavors extension)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 14:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('flavors',
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('description', sa.String(length=1024), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('service_type', sa.String(length=36), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flavors'))
    )
    op.create_table('serviceprofiles',
    sa.Column('description', sa.String(length=1024), nullable=True),
    sa.Column('driver', sa.String(length=1024), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('metainfo', sa.String(length=4096), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_serviceprofiles'))
    )
    op.create_table('flavorserviceprofilebindings',
    sa.Column('flavor_id', sa.String(length=36), nullable=False),
    sa.Column('service_profile_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['flavor_id'], ['flavors.id'], name=op.f('fk_flavorserviceprofilebindings_flavor_id_flavors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_profile_id'], ['serviceprofiles.id'], name=op.f('fk_flavorserviceprofilebindings_service_profile_id_serviceprofiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('flavor_id', 'service_profile_id', name=op.f('pk_flavorserviceprofilebindings'))
    )
    op.create_index(op.f('ix_flavorserviceprofilebindings_service_profile_id'), 'flavorserviceprofilebindings', ['service_profile_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_flavorserviceprofilebindings_service_profile_id'), table_name='flavorserviceprofilebindings')
    op.drop_table('flavorserviceprofilebindings')
    op.drop_table('serviceprofiles')
    op.drop_table('flavors')
