"""SQLite connections keep a small page cache and statement cache (the server's resident size)."""

from __future__ import annotations

from pathlib import Path

import pytest

from neutrino.db.engine import PAGE_CACHE_KIB, make_engine

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("read_only", [False, True])
def test_every_connection_gets_the_small_page_cache(tmp_path: Path, read_only: bool) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}", read_only=read_only)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -PAGE_CACHE_KIB
    finally:
        engine.dispose()
