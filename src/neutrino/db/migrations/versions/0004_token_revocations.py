"""identity_revoked_tokens: tokens revoked before their expiry (by audit id)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 20:40:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_revoked_tokens',
    sa.Column('audit_id', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('audit_id', name=op.f('pk_identity_revoked_tokens'))
    )


def downgrade() -> None:
    op.drop_table('identity_revoked_tokens')
