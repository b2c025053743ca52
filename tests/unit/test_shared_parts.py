"""``projection/shared_parts.py``: pieces kept per event number, never across numbers."""

from __future__ import annotations

import threading
import time

import pytest

from neutrino.domain.projection.shared_parts import SharedParts

pytestmark = pytest.mark.unit


def test_a_piece_is_reused_under_its_number_and_dropped_when_a_newer_one_is_seen():
    shared, calls = SharedParts(), []

    def compute(value: str):  # type: ignore[no-untyped-def]
        return lambda: (calls.append(value), value)[1]

    assert shared.get(5, "g", compute("a")) == "a"
    assert shared.get(5, "g", compute("b")) == "a"  # the same wave: kept
    assert shared.get(6, "g", compute("c")) == "c"  # a newer event: computed again
    assert shared.get(5, "g", compute("d")) == "d"  # an answer that read an older number: not from the newer pieces
    assert shared.get(6, "g", compute("e")) == "c"
    assert calls == ["a", "c", "d"] and (shared.computed, shared.reused) == (3, 2)


def test_an_empty_log_keeps_nothing_and_a_failure_is_not_kept():
    shared = SharedParts()
    assert shared.get(0, "g", lambda: 1) == 1 and shared.get(0, "g", lambda: 2) == 2

    def boom() -> int:
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        shared.get(3, "g", boom)
    assert shared.get(3, "g", lambda: 4) == 4


def test_answers_asking_at_once_wait_for_one_computation():
    shared, started, calls = SharedParts(), threading.Event(), []

    def slow() -> str:
        calls.append(1)
        started.set()
        time.sleep(0.2)
        return "members"

    out: list[str] = []
    first = threading.Thread(target=lambda: out.append(shared.get(7, "g", slow)))
    first.start()
    assert started.wait(30)
    others = [threading.Thread(target=lambda: out.append(shared.get(7, "g", slow))) for _ in range(4)]
    for t in others:
        t.start()
    for t in [first, *others]:
        t.join(30)
    assert out == ["members"] * 5 and calls == [1]


class _Session:
    """Stands for the answer's session: counts the event-number queries."""

    def __init__(self, newest: int) -> None:
        self.newest, self.queries = newest, 0

    def scalar(self, _statement: object) -> int:
        self.queries += 1
        return self.newest


def test_an_answer_naming_its_notifications_number_needs_no_query_while_the_kept_pieces_are_as_new():
    shared = SharedParts()
    session = _Session(newest=9)
    assert shared.number(session, logged=9) == 9 and session.queries == 1  # nothing kept yet: read
    shared.get(9, "g", lambda: "members")
    assert shared.number(session, logged=9) == 9 and shared.number(session, logged=4) == 9
    assert session.queries == 1  # kept pieces at least as new as the notification: no query
    session.newest = 12
    assert shared.number(session, logged=12) == 12 and session.queries == 2  # a newer notification: read
    assert shared.number(session) == 12 and session.queries == 3  # an agent that names none: read
