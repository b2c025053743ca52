"""the bus's shared state: the event log of the HTTP long poll and the announced fingerprints

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 20:45:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

SEQ_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('bus_events',
    sa.Column('seq', SEQ_TYPE, autoincrement=True, nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_bus_events'))
    )
    op.create_index('ix_bus_events_topic_seq', 'bus_events', ['topic', 'seq'], unique=False)
    op.create_table('bus_fingerprints',
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('host', name=op.f('pk_bus_fingerprints'))
    )


def downgrade() -> None:
    op.drop_table('bus_fingerprints')
    op.drop_index('ix_bus_events_topic_seq', table_name='bus_events')
    op.drop_table('bus_events')
