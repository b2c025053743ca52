"""Engine and transactions.

SQLite is the embedded default and PostgreSQL the scalable one; the code above this module is
the same for both. For SQLite every transaction starts with BEGIN IMMEDIATE: writers then
queue on the busy timeout instead of failing with "database is locked" when a read lock is
upgraded, and WAL keeps readers unblocked by writers. Correctness under concurrent writers
(no shared IP, MAC or segment) comes from unique constraints plus `run_in_transaction`
retrying the whole unit of work, which is what Neutron does with its DB retry decorator; a
resource updated by another writer since it was read (its revision_number, the version
counter, no longer matches: ``StaleDataError``) is retried the same way.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from neutrino import errors

LOG = logging.getLogger(__name__)
T = TypeVar("T")

MAX_RETRIES = 10
STATEMENT_CACHE = 32
PAGE_CACHE_KIB = 600


class RetryRequest(Exception):
    """Raised inside a unit of work to have it run again from the start (a lost race)."""


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    """``read_only`` engines (SQLite) start deferred transactions: WAL readers take no lock."""
    if is_sqlite(url):
        engine = create_engine(
            url,
            # the driver keeps each connection's last prepared statements (128 by default) in
            # SQLite's memory; 32 holds every statement a request repeats, and the other 96 were
            # 1.3 MiB of the API server's resident size (bench/api.py), mostly IN lists of varying length
            connect_args={"check_same_thread": False, "timeout": 30, "cached_statements": STATEMENT_CACHE},
            pool_size=8,
            max_overflow=8,
            # the connection used last first: one client's requests in a row run on the same
            # connection, whose page cache is still valid (SQLite keeps it across its own
            # commits), instead of on the one idle longest, whose cache other commits made stale
            pool_use_lifo=True,
        )
        _configure_sqlite(engine, immediate=not read_only)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _configure_sqlite(engine: Engine, *, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        # let SQLAlchemy's "begin" event below decide how transactions start
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        # each connection has its own page cache (2 MB by default); in WAL mode another
        # connection's commit empties it at the next transaction, so a reader's is refilled from
        # the kernel's cache anyway; a writer keeps its own across its commits, and a port
        # delete touches some 35 pages (rows and indexes of ports, addresses and the tables
        # probed): at 200 KiB each delete read 37 pages back, at 600 KiB 6 (bench/api.py)
        cur.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
        cur.close()

    if immediate:

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    else:

        @event.listens_for(engine, "begin")
        def _on_begin_deferred(conn):  # type: ignore[no-untyped-def]
            # straight to the driver: a deferred BEGIN takes no lock and cannot fail, and going
            # through SQLAlchemy's statement machinery cost a tenth of a GET
            conn.connection.driver_connection.execute("BEGIN")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)


def _is_retriable(exc: BaseException) -> bool:
    if isinstance(exc, RetryRequest | IntegrityError | StaleDataError):
        return True
    if isinstance(exc, OperationalError | DBAPIError):
        text = str(exc.orig if getattr(exc, "orig", None) else exc).lower()
        return any(
            s in text
            for s in ("database is locked", "deadlock", "could not serialize", "serialization")
        )
    return False


def connection_of(db: Session | Connection) -> Connection:
    """Core statements run on a Connection; accept a Session (write paths) or a Connection."""
    return db.connection() if isinstance(db, Session) else db


def run_read(engine: Engine, work: Callable[[Connection], T]) -> T:
    """A read-only unit of work on a bare connection: no ORM session to set up and tear down,
    which halves the fixed cost of a GET. Used by services whose reads are plain Core."""
    with engine.connect() as conn:
        with conn.begin():
            try:
                return work(conn)
            except DataError as exc:
                raise _rejected_value(exc) from exc


class HeldReadConnection:
    """``run_read`` on one connection kept open between units of work.

    Why: taking a connection from the pool and giving it back (SQLAlchemy's checkout and
    checkin events, its reset, a new ``Connection``) cost about a tenth of a network GET's CPU
    time, more than the GET's own statements. Each unit of work still runs in its own
    transaction (BEGIN ... COMMIT), so it sees every commit made before it, as a pooled
    connection would; only the checkout is saved. Made for SQLite served inline on the event
    loop (``AppState.db_in_threadpool`` off), where units of work run one at a time; one that
    comes while the held connection is busy (another thread, or a nested call) runs on a pooled
    connection as ``run_read`` does. A connection the driver invalidated is replaced."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._busy = threading.Lock()

    def run(self, work: Callable[[Connection], T]) -> T:
        if not self._busy.acquire(blocking=False):
            return run_read(self.engine, work)
        try:
            conn = self._conn
            if conn is None or conn.closed or conn.invalidated:
                if conn is not None:
                    conn.close()
                conn = self._conn = self.engine.connect()
            with conn.begin():
                try:
                    return work(conn)
                except DataError as exc:
                    raise _rejected_value(exc) from exc
        finally:
            self._busy.release()

    def close(self) -> None:
        with self._busy:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _rejected_value(exc: DataError) -> errors.NeutronError:
    """A value the column cannot hold (NUL in text, too long, out of range): PostgreSQL
    refuses it where SQLite stores or compares it. The request is at fault: a 400, not a 500."""
    LOG.info("value rejected by the database: %s", exc.orig)
    reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "invalid value"
    return errors.InvalidInput(error_message=reason)


def run_in_transaction(
    factory: sessionmaker[Session],
    work: Callable[[Session], T],
    *,
    retries: int = MAX_RETRIES,
    on_retry: Callable[[], None] | None = None,
) -> T:
    """Run ``work(session)`` in one transaction; rerun it from scratch on a lost race.

    Domain errors (NeutronError) propagate at once and roll back: nothing half-written stays.
    An IntegrityError means another writer took a unique value (IP, MAC, segment) between our
    check and our insert; running again re-reads the world and picks another.
    """
    attempt = 0
    while True:
        session = factory()
        try:
            with session.begin():
                result = work(session)
            return result
        except errors.NeutronError:
            raise
        except DataError as exc:
            raise _rejected_value(exc) from exc
        except Exception as exc:  # noqa: BLE001 - filtered just below
            if not _is_retriable(exc) or attempt >= retries:
                if _is_retriable(exc):
                    LOG.warning("giving up after %d retries: %s", attempt, exc)
                    raise errors.DatabaseRetryExhausted() from exc
                raise
            attempt += 1
            if on_retry:
                on_retry()
            time.sleep(random.uniform(0, 0.002 * attempt))
        finally:
            session.close()
