"""Which API worker runs the server's periodic tasks (agent liveness, moving networks and
routers off dead agents): the one that holds a PostgreSQL session-level advisory lock.

Each worker asks ``held()`` before a round. The first to ask takes the lock on a connection of
its own (outside SQLAlchemy's pool) and keeps it for its life; the others are refused and skip
the round. When the holder dies its connection closes, the lock is released, and the next
worker to ask takes over. On SQLite there is one process, which always holds it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy.engine import Engine

LOG = logging.getLogger(__name__)

PERIODIC_LOCK = 0x6E70657269646963  # any constant, the same in every worker


class Leadership:
    def __init__(self, engine: Engine) -> None:
        self.postgres = engine.dialect.name == "postgresql"
        self._connect_args, self._connect_kwargs = (
            engine.dialect.create_connect_args(engine.url) if self.postgres else ([], {})
        )
        self._conn: Any = None
        self._lock = threading.Lock()

    def held(self) -> bool:
        """True if this process runs the periodic tasks now (taking the lock if it is free)."""
        if not self.postgres:
            return True
        import psycopg

        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.execute("SELECT 1")  # still connected, so still holding it
                    return True
                except psycopg.Error:
                    LOG.warning("lost the connection holding the periodic tasks' lock")
                    self._close()
            try:
                conn = psycopg.connect(*self._connect_args, **self._connect_kwargs, autocommit=True)
            except psycopg.Error as exc:
                LOG.warning("periodic tasks: cannot reach the database (%s)", str(exc).splitlines()[0])
                return False
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (PERIODIC_LOCK,)).fetchone()
            if row and row[0]:
                self._conn = conn
                LOG.info("this worker runs the periodic tasks")
                return True
            conn.close()
            return False

    def release(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                LOG.debug("closing the lock connection failed", exc_info=True)
