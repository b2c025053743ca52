"""The log of what was published on each host topic, kept in the database for agents that
long-poll over HTTP, whichever API worker serves them and whichever committed the change.

The HTTP transport cannot push, so the server keeps the last notifications of each host topic
in the ``bus_events`` table, numbered by a sequence every worker shares. An agent asks for those
after the last number it saw and waits (long poll) when there are none. Waiting long-pollers are
woken by a per-process ``Wakeup``: the notifier that appended rings it directly, and on
PostgreSQL one ``LISTEN`` connection per worker rings it when another worker appended (the
append sends ``NOTIFY`` in its transaction, delivered at commit). A wake-up that is lost costs
at most ``RECHECK`` seconds: waiters look at the table again that often anyway.

Appends take turns (a transaction-scoped advisory lock on PostgreSQL, BEGIN IMMEDIATE on
SQLite), so sequence numbers become visible in order and a reader that saw N never later finds
a smaller number committed behind it. The table is pruned to ``KEEP_ROWS`` rows and
``KEEP_SECONDS`` of age. Losing old entries is harmless: notifications only say "look again",
and an agent that fell behind is told so (``reset``) and resyncs.

The notifier appends one pass's notifications in one transaction (``append``); each worker
announces the commits it made itself (``bus/server.py``). ``announce`` (compare each host's
desired-state fingerprint with the one last announced, ``bus_fingerprints``) is what the
notifier used before notifications were targeted; nothing in the server calls it now.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from neutrino.db.engine import make_sessionmaker, run_in_transaction
from neutrino.domain.models import BusEvent, BusFingerprint
from neutrino.domain.models.base import utcnow

LOG = logging.getLogger(__name__)

KEEP_ROWS = 4096
KEEP_SECONDS = 3600
RECHECK = 5.0
MAX_EVENTS = 256
CHANNEL = "neutrino_bus"
APPEND_LOCK = 0x6E62757365766C67  # any constant: appenders of one database take turns


class Wakeup:
    """A generation counter long-pollers wait on; ``ring`` wakes every waiter of this process."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0

    @property
    def generation(self) -> int:
        with self._cond:
            return self._generation

    def ring(self) -> None:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> None:
        """Return once the generation differs from ``seen``, or after ``timeout`` seconds."""
        with self._cond:
            self._cond.wait_for(lambda: self._generation != seen, timeout=timeout)


class PgListener:
    """One ``LISTEN`` connection (psycopg 3, autocommit) per worker, outside SQLAlchemy's pool;
    every notification on ``CHANNEL`` rings the wakeup. Reconnects with backoff, and rings once
    after each (re)connect, since notifications sent while it was away are lost."""

    def __init__(self, engine: Engine, wakeup: Wakeup) -> None:
        self._connect_args, self._connect_kwargs = engine.dialect.create_connect_args(engine.url)
        self.wakeup = wakeup
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="bus-listen", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _loop(self) -> None:
        import psycopg

        backoff = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(*self._connect_args, **self._connect_kwargs, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    backoff = 0.5
                    self.wakeup.ring()
                    while not self._stop.is_set():
                        for _notification in conn.notifies(timeout=1.0):
                            self.wakeup.ring()
            except psycopg.Error as exc:
                LOG.warning("bus: LISTEN connection lost (%s); reconnecting in %.1fs", exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)


class EventLog:
    """``announce`` (the notifier, after a commit) and ``since`` (the long poll)."""

    def __init__(self, engine: Engine, read_engine: Engine | None = None) -> None:
        """``engine``: the writers' engine; a sessionmaker of its own, so the log's commits do
        not wake the notifier that wrote them. ``read_engine``: what long polls read with."""
        self.engine = engine
        self.read_engine = read_engine or engine
        self.sessions = make_sessionmaker(engine)
        self.postgres = engine.dialect.name == "postgresql"
        self.wakeup = Wakeup()
        self.listener = PgListener(engine, self.wakeup) if self.postgres else None

    def start(self) -> None:
        if self.listener is not None:
            self.listener.start()

    def stop(self) -> None:
        if self.listener is not None:
            self.listener.stop()

    # --- writing ----------------------------------------------------------------------------

    def announce(self, prints: dict[str, str], message: Any) -> list[str]:
        """Hosts whose fingerprint differs from the one last announced by any worker: record
        the new fingerprints and append ``message(host)`` to each host's topic, in one
        transaction; returns those hosts."""
        changed = run_in_transaction(self.sessions, lambda s: self._announce(s, prints, message))
        if changed:
            self.wakeup.ring()
        return changed

    def publish(self, topic: str, msg: dict[str, Any]) -> None:
        """Append one notification as it is, with no fingerprint to compare: what a transport's
        ``publish`` is for the agents that long-poll over HTTP."""
        run_in_transaction(self.sessions, lambda s: self._append(s, [(topic, msg)]))
        self.wakeup.ring()

    def append(self, events: list[tuple[str, dict[str, Any]]]) -> int:
        """Append notifications (topic, message) as they are, in one transaction (the
        notifier's pass: one per host it touched); the number of the last of them (0: none)."""
        if not events:
            return 0
        number = run_in_transaction(self.sessions, lambda s: self._append(s, events))
        self.wakeup.ring()
        return number

    def _announce(self, session: Session, prints: dict[str, str], message: Any) -> list[str]:
        self._take_turns(session)
        stored = {host: fp for host, fp in session.execute(select(BusFingerprint.host, BusFingerprint.fingerprint))}
        changed = [host for host, fp in prints.items() if stored.get(host) != fp]
        if not changed:
            return []
        for host in changed:
            if host in stored:
                session.execute(
                    update(BusFingerprint).where(BusFingerprint.host == host).values(fingerprint=prints[host])
                )
            else:
                session.execute(insert(BusFingerprint).values(host=host, fingerprint=prints[host]))
        self._append(session, [message(host) for host in changed])
        return changed

    def _take_turns(self, session: Session) -> None:
        if self.postgres:  # held to the end of the transaction; once is enough
            session.execute(select(func.pg_advisory_xact_lock(APPEND_LOCK)))

    def _append(self, session: Session, events: list[tuple[str, dict[str, Any]]]) -> int:
        self._take_turns(session)
        now = utcnow()
        rows = [{"topic": topic, "body": orjson.dumps(msg).decode(), "created_at": now} for topic, msg in events]
        session.execute(insert(BusEvent), rows)
        newest = self._prune(session, now)
        if self.postgres:
            session.execute(select(func.pg_notify(CHANNEL, "")))
        return newest

    def _prune(self, session: Session, now: Any) -> int:
        """Keep the newest ``KEEP_ROWS`` rows and none older than ``KEEP_SECONDS``, but always
        the newest row, so the numbering a reader compares against survives a quiet hour."""
        newest = session.scalar(select(func.max(BusEvent.seq))) or 0
        session.execute(
            delete(BusEvent).where(
                (BusEvent.seq <= newest - KEEP_ROWS)
                | ((BusEvent.created_at < now - timedelta(seconds=KEEP_SECONDS)) & (BusEvent.seq < newest))
            )
        )
        return int(newest)

    # --- reading ----------------------------------------------------------------------------

    def since(self, topic: str, after: int, timeout: float, from_now: bool = True) -> dict[str, Any]:
        """{"events": [...], "last": seq, "reset": bool} for messages on ``topic`` after
        ``after``, waiting up to ``timeout`` seconds for one. ``after`` 0 (a new poller) is
        answered at once with the newest number, so an agent starts from now instead of reading
        the past hour; unless ``from_now`` is false (a reader that knows the topic is new)."""
        deadline = time.monotonic() + timeout
        if after <= 0 and from_now:
            after = 0
            newest = self._newest()
            if newest > 0:
                return {"events": [], "last": newest, "reset": False}
        while True:
            seen = self.wakeup.generation
            doc = self._read(topic, after)
            remaining = deadline - time.monotonic()
            if doc["events"] or doc["reset"] or remaining <= 0:
                return doc
            self.wakeup.wait(seen, min(remaining, RECHECK))

    def newest(self) -> int:
        """The number of the newest entry (0 for none): read from there to see only what follows."""
        return self._newest()

    def _newest(self) -> int:
        with self.read_engine.connect() as conn:
            return conn.execute(select(func.max(BusEvent.seq))).scalar() or 0

    def _read(self, topic: str, after: int) -> dict[str, Any]:
        with self.read_engine.connect() as conn:
            low, high = conn.execute(select(func.min(BusEvent.seq), func.max(BusEvent.seq))).one()
            high = high or 0
            if after > high or (low is not None and after < low - 1):
                # the log was pruned past this reader, or this is another database: look again
                return {"events": [], "last": high, "reset": True}
            rows = conn.execute(
                select(BusEvent.seq, BusEvent.body)
                .where(BusEvent.topic == topic, BusEvent.seq > after)
                .order_by(BusEvent.seq)
                .limit(MAX_EVENTS)
            ).all()
        events = [orjson.loads(row.body) for row in rows]
        return {"events": events, "last": rows[-1].seq if rows else after, "reset": False}
