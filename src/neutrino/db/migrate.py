"""Schema migrations through Alembic, from the first table on.

``upgrade(engine)`` brings any database (SQLite or PostgreSQL) to the current schema; the
server calls it at start, so a fresh state dir needs no separate step.

Alembic (with Mako and Pygments behind it) costs the server process about 11 MiB that it
would keep for its whole life while using it once. So the server first compares the stored
revision with ``HEAD_REVISION`` using plain SQLAlchemy, and runs a needed upgrade in a short
child process (``python -m neutrino.db.migrate URL``). A unit test keeps ``HEAD_REVISION``
equal to the newest migration.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD_REVISION = "0012"


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current(engine: Engine) -> str | None:
    """The stored revision, read without importing Alembic."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


class SchemaNotCurrent(RuntimeError):
    """The database is not at the schema this code needs, and this process may not migrate it."""


def require_head(engine: Engine) -> None:
    """Raise SchemaNotCurrent, in one line that says what to run, unless the schema is at head."""
    found = current(engine)
    if found != HEAD_REVISION:
        state = "is empty" if found is None else f"is at schema revision {found}"
        raise SchemaNotCurrent(
            f"the database {state}, this server needs {HEAD_REVISION}: run `neutrino db upgrade` "
            "(with the same --config or --database-url), or start the server with migrations on"
        )


def upgrade_if_needed(engine: Engine, *, isolated: bool = False) -> bool:
    """Upgrade to head unless already there; ``isolated`` runs Alembic in a child process."""
    if current(engine) == HEAD_REVISION:
        return False
    if isolated:
        url = engine.url.render_as_string(hide_password=False)
        subprocess.run([sys.executable, "-m", "neutrino.db.migrate", url], check=True)
    else:
        upgrade(engine)
    return True


def main() -> None:
    from neutrino.db.engine import make_engine

    engine = make_engine(sys.argv[1])
    try:
        upgrade(engine)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
