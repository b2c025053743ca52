"""Reads on the connection kept open between requests see every commit made before them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from neutrino.db.engine import HeldReadConnection, make_engine

pytestmark = pytest.mark.unit


def test_each_read_sees_what_was_committed_before_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    writer, reader = make_engine(url), make_engine(url, read_only=True)
    held = HeldReadConnection(reader)
    try:
        with writer.begin() as conn:
            conn.execute(text("CREATE TABLE t (v INTEGER)"))
        count = lambda conn: conn.execute(text("SELECT count(*) FROM t")).scalar()  # noqa: E731
        assert held.run(count) == 0
        first = held._conn
        with writer.begin() as conn:  # a write between two reads, on another connection
            conn.execute(text("INSERT INTO t VALUES (1)"))
        assert held.run(count) == 1
        assert held._conn is first  # the same connection, a new transaction

        def fails(conn):  # type: ignore[no-untyped-def]
            conn.execute(text("SELECT 1"))
            raise ValueError("in the unit of work")

        with pytest.raises(ValueError):
            held.run(fails)
        assert not first.in_transaction()  # rolled back, still usable
        first.invalidate()  # the driver lost it: the next read takes another
        with writer.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (2)"))
        assert held.run(count) == 2
        assert held._conn is not first
        held.close()
        assert held._conn is None
        assert held.run(count) == 2  # usable again after a close
    finally:
        held.close()
        writer.dispose()
        reader.dispose()


def test_a_read_while_the_held_connection_is_busy_takes_a_pooled_one(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}", read_only=True)
    held = HeldReadConnection(engine)
    try:
        seen = []

        def outer(conn):  # type: ignore[no-untyped-def]
            inner = held.run(lambda c: c)  # nested: not the connection in use
            seen.extend([conn, inner])
            return conn.execute(text("SELECT 1")).scalar()

        assert held.run(outer) == 1
        assert seen[0] is held._conn and seen[1] is not seen[0]
    finally:
        held.close()
        engine.dispose()
