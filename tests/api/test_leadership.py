"""Periodic tasks run in one API worker: the holder of an advisory lock (PostgreSQL); the
next one takes over when it is gone. SQLite has one process, which always leads."""

from __future__ import annotations

import pytest

from neutrino.db.engine import make_engine
from neutrino.db.leader import Leadership

pytestmark = pytest.mark.api


def test_one_leader_at_a_time_and_a_successor(tmp_path, database_url):
    engine = make_engine(database_url or f"sqlite:///{tmp_path / 'x.db'}")
    first, second = Leadership(engine), Leadership(engine)
    try:
        assert first.held()
        if database_url is None:
            assert second.held()
            return
        assert not second.held()
        assert first.held()  # kept, not taken again
        first.release()
        assert second.held()
        assert not first.held()
    finally:
        first.release()
        second.release()
        engine.dispose()
