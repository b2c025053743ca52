"""address groups, remote_address_group_id of rules, default security group rule templates
(with Neutron's four legacy rules), DNS attributes of networks and ports, network segment ranges,
name and standard attributes of segments

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 23:20:00.000000
"""

import uuid
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('address_groups',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_address_groups'))
    )
    with op.batch_alter_table('address_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_address_groups_project_id'), ['project_id'], unique=False)

    op.create_table('address_group_addresses',
    sa.Column('address_group_id', sa.String(length=36), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['address_group_id'], ['address_groups.id'], name=op.f('fk_address_group_addresses_address_group_id_address_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('address_group_id', 'address', name=op.f('pk_address_group_addresses'))
    )
    with op.batch_alter_table('security_group_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remote_address_group_id', sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_security_group_rules_remote_address_group_id_address_groups'), 'address_groups', ['remote_address_group_id'], ['id'])

    templates = op.create_table('default_security_group_rules',
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('ethertype', sa.String(length=8), nullable=False),
    sa.Column('protocol', sa.String(length=40), nullable=True),
    sa.Column('port_range_min', sa.Integer(), nullable=True),
    sa.Column('port_range_max', sa.Integer(), nullable=True),
    sa.Column('remote_ip_prefix', sa.String(length=64), nullable=True),
    sa.Column('remote_group_id', sa.String(length=36), nullable=True),
    sa.Column('remote_address_group_id', sa.String(length=36), nullable=True),
    sa.Column('used_in_default_sg', sa.Boolean(), nullable=False),
    sa.Column('used_in_non_default_sg', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_default_security_group_rules'))
    )
    # Neutron's legacy template: egress anywhere (every group), ingress from the group's own
    # members (the project's default group only); docs/neutron-behaviour.md
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    rows = []
    for ethertype in ('IPv4', 'IPv6'):
        rows.append(dict(direction='egress', ethertype=ethertype, remote_group_id=None,
                         used_in_default_sg=True, used_in_non_default_sg=True,
                         description='Legacy default SG rule for egress traffic'))
        rows.append(dict(direction='ingress', ethertype=ethertype, remote_group_id='PARENT',
                         used_in_default_sg=True, used_in_non_default_sg=False,
                         description='Legacy default SG rule for ingress traffic'))
    op.bulk_insert(templates, [
        dict(row, id=str(uuid.uuid4()), protocol=None, port_range_min=None, port_range_max=None,
             remote_ip_prefix=None, remote_address_group_id=None, created_at=now, updated_at=now,
             revision_number=0)
        for row in rows
    ])

    op.create_table('network_dns_domains',
    sa.Column('network_id', sa.String(length=36), nullable=False),
    sa.Column('dns_domain', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_network_dns_domains_network_id_networks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('network_id', name=op.f('pk_network_dns_domains'))
    )
    op.create_table('port_dns',
    sa.Column('port_id', sa.String(length=36), nullable=False),
    sa.Column('dns_name', sa.String(length=255), nullable=False),
    sa.Column('dns_domain', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['port_id'], ['ports.id'], name=op.f('fk_port_dns_port_id_ports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('port_id', name=op.f('pk_port_dns'))
    )

    op.create_table('network_segment_ranges',
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('default', sa.Boolean(), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=True),
    sa.Column('network_type', sa.String(length=32), nullable=False),
    sa.Column('physical_network', sa.String(length=64), nullable=False),
    sa.Column('minimum', sa.Integer(), nullable=False),
    sa.Column('maximum', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('description', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('revision_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_segment_ranges'))
    )
    with op.batch_alter_table('network_segment_ranges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_segment_ranges_project_id'), ['project_id'], unique=False)

    epoch = sa.text("'2026-01-01 00:00:00'")
    with op.batch_alter_table('network_segments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('description', sa.String(length=255), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('created_at', sa.DateTime(), nullable=False, server_default=epoch))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=False, server_default=epoch))
        batch_op.add_column(sa.Column('revision_number', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('network_segments', schema=None) as batch_op:
        for column in ('revision_number', 'updated_at', 'created_at', 'description', 'name'):
            batch_op.drop_column(column)
    with op.batch_alter_table('network_segment_ranges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_network_segment_ranges_project_id'))
    op.drop_table('network_segment_ranges')
    op.drop_table('port_dns')
    op.drop_table('network_dns_domains')
    op.drop_table('default_security_group_rules')
    with op.batch_alter_table('security_group_rules', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_security_group_rules_remote_address_group_id_address_groups'), type_='foreignkey')
        batch_op.drop_column('remote_address_group_id')
    op.drop_table('address_group_addresses')
    with op.batch_alter_table('address_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_address_groups_project_id'))
    op.drop_table('address_groups')
