"""Alembic environment: runs against the engine handed over in ``config.attributes``."""

from alembic import context
from sqlalchemy import text

from neutrino.domain.models import Base

# any constant: PostgreSQL servers that start together on a new database take turns migrating
MIGRATION_LOCK = 0x6E65757472696E6F

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    if connection.dialect.name == "postgresql":
        # held until the commit below; the next one then finds the schema at head (SQLite's
        # BEGIN IMMEDIATE already serializes this)
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
