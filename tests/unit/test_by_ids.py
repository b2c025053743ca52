"""db/by_ids.py: the same rows whichever form runs (one id, a page, more than a chunk), with
literals and extra parameters bound, on the connection's own transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import (
    Boolean, Column, DateTime, Integer, MetaData, String, Table, bindparam, create_engine, insert, literal, select, union_all,
)
from sqlalchemy.engine import Connection

from neutrino.db import by_ids
from neutrino.db.by_ids import ByIds

pytestmark = pytest.mark.unit

META = MetaData()
ITEMS = Table("items", META, Column("id", String, primary_key=True), Column("owner", String), Column("size", Integer))
LABELS = Table("labels", META, Column("item_id", String), Column("label", String))

SIZES = ByIds(lambda cond: select(ITEMS.c.id, ITEMS.c.size).where(cond(ITEMS.c.id)).order_by(ITEMS.c.id))
OWNED = ByIds(lambda cond: select(ITEMS.c.id).where(cond(ITEMS.c.id), ITEMS.c.owner == bindparam("owner")))
BOTH = ByIds(lambda cond: union_all(
    select(literal("size").label("kind"), ITEMS.c.id, ITEMS.c.owner).where(cond(ITEMS.c.id)),
    select(literal("label"), LABELS.c.item_id, LABELS.c.label).where(cond(LABELS.c.item_id)),
))  # fmt: skip


@pytest.fixture
def conn() -> Iterator[Connection]:
    engine = create_engine("sqlite://")
    META.create_all(engine)
    with engine.connect() as c, c.begin():
        rows = [{"id": f"i{n:04d}", "owner": "a" if n % 2 else "b", "size": n} for n in range(1200)]
        c.execute(insert(ITEMS), rows)
        c.execute(insert(LABELS), [{"item_id": "i0001", "label": "x"}, {"item_id": "i0002", "label": "y"}])
        yield c
    engine.dispose()


def test_one_id_gives_plain_tuples(conn: Connection) -> None:
    assert list(SIZES.rows(conn, ["i0007"])) == [("i0007", 7)]
    assert list(SIZES.rows(conn, ["nope"])) == []
    assert list(SIZES.rows(conn, [])) == []


def test_many_ids_across_chunks_give_every_row(conn: Connection) -> None:
    ids = [f"i{n:04d}" for n in range(0, 1200, 1)] + ["missing"]
    found = list(SIZES.rows(conn, ids))
    assert len(found) == 1200 > by_ids.CHUNK
    assert dict(found) == {f"i{n:04d}": n for n in range(1200)}
    assert list(SIZES.rows(conn, ["i0003", "i0001"])) == [("i0001", 1), ("i0003", 3)]


def test_extra_parameters_and_literals_are_bound(conn: Connection) -> None:
    assert sorted(OWNED.rows(conn, ["i0001", "i0002", "i0003"], owner="a")) == [("i0001",), ("i0003",)]
    assert list(OWNED.rows(conn, ["i0002"], owner="a")) == []
    assert sorted(BOTH.rows(conn, ["i0001"])) == [("label", "i0001", "x"), ("size", "i0001", "a")]
    assert sorted(BOTH.rows(conn, ["i0001", "i0002"])) == [
        ("label", "i0001", "x"), ("label", "i0002", "y"), ("size", "i0001", "a"), ("size", "i0002", "b"),
    ]  # fmt: skip


def test_reads_see_the_transactions_own_writes(conn: Connection) -> None:
    conn.execute(insert(ITEMS), {"id": "new", "owner": "a", "size": 1})
    assert list(SIZES.rows(conn, ["new"])) == [("new", 1)]
    assert len(list(SIZES.rows(conn, ["new", "i0000"]))) == 2


def test_pages_are_padded_to_a_power_of_two(conn: Connection) -> None:
    assert by_ids._padded(["a", "b", "c"]) == ["a", "b", "c", "c"]
    assert by_ids._padded(["a", "b"]) == ["a", "b"]
    assert len(by_ids._padded([str(n) for n in range(by_ids.CHUNK)])) == 512
    assert sorted(SIZES.rows(conn, ["i0001", "i0002", "i0003"])) == [("i0001", 1), ("i0002", 2), ("i0003", 3)]


TYPED = Table(
    "typed", META, Column("id", String, primary_key=True), Column("on", Boolean), Column("at", DateTime),
    Column("n", Integer),
)  # fmt: skip
TYPED_ROWS = ByIds(lambda cond: select(TYPED).where(cond(TYPED.c.id)).order_by(TYPED.c.id), convert=True)


def test_converted_rows_are_what_sqlalchemy_returns(conn: Connection) -> None:
    values = [
        {"id": "t1", "on": True, "at": datetime(2026, 12, 5, 13, 0, 1, 123456), "n": 3},
        {"id": "t2", "on": False, "at": datetime(2026, 1, 2, 3, 4, 5), "n": None},
        {"id": "t3", "on": None, "at": None, "n": 0},
    ]
    conn.execute(insert(TYPED), values)
    expected = [tuple(r) for r in conn.execute(select(TYPED).order_by(TYPED.c.id))]
    assert list(TYPED_ROWS.rows(conn, ["t1", "t2", "t3"])) == expected
    assert list(TYPED_ROWS.rows(conn, ["t2"])) == [expected[1]]
    assert type(expected[0][1]) is bool and type(expected[0][2]) is datetime
