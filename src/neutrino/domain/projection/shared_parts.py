"""The host-independent pieces of ``get_desired_parts`` answers, computed once per notification
wave instead of once per host (read-only; used by ``parts.py``).

A port joining a group whose users sit on 500 hosts wakes those 500 agents, and each asks for
the same thing: the group's rules and its members' addresses (no port of its own). Every answer
was the same three queries; on PostgreSQL the members' join alone took about 8 ms for a group of
500 members, so 500 answers took seconds of database time. Here a group's rules and a set of
remote groups' members are computed once and kept for the answers that follow.

Why a kept piece is never older than an agent needs: an agent asks for parts because a
``host_changed`` told it to, and the notifier appends every notification to the database's
event log (``bus_events``, numbered by a sequence every API worker shares) before it publishes
it, after the commit it announces. Each answer first reads the newest event number, in its
own transaction; pieces are kept under that number and reused only by answers that read the
same number. A piece kept under N was computed after event N was appended, so it holds every
commit announced by events up to N, the one that woke the asking agent among them. A commit
announced later raises the number first, and the old pieces are dropped. With no event yet
(an empty log), nothing is kept. The notifier publishes each notification with the number it
was logged under (``logged``) and the agent names it in its call: when the kept pieces are at
least that new, the answer needs no query at all.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from neutrino.domain.models import BusEvent

T = TypeVar("T")

MAX_PIECES = 256
"""Pieces kept per event number (a wave names a few groups; more is a sign of another load)."""


class SharedParts:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._number = 0
        self._pieces: dict[Hashable, Any] = {}
        self._computing: dict[Hashable, threading.Event] = {}
        self.computed = 0
        self.reused = 0

    def number(self, session: Session, logged: int = 0) -> int:
        """The event number to answer under: the kept pieces' if they are at least as new as
        ``logged`` (the number the asking agent's notification was logged under: no query),
        else the newest, read in the answer's transaction (0: the log is empty)."""
        with self._lock:
            kept = self._number
        if logged and kept >= logged:
            return kept
        return int(session.scalar(select(func.max(BusEvent.seq))) or 0)

    def get(self, number: int, key: Hashable, compute: Callable[[], T]) -> T:
        """The piece ``key`` as of event ``number``: kept, or computed (and kept if ``number`` is
        the newest seen). Answers asking for the same piece at once wait for one computation."""
        while True:
            with self._lock:
                if number > self._number:
                    self._number, self._pieces = number, {}
                current = number and number == self._number
                if current and key in self._pieces:
                    self.reused += 1
                    return self._pieces[key]  # type: ignore[no-any-return]
                busy = self._computing.get(key) if current else None
                if current and busy is None:
                    mine = self._computing[key] = threading.Event()
            if not current:
                self.computed += 1
                return compute()
            if busy is None:
                break
            busy.wait(5.0)
        try:
            value = compute()
            with self._lock:
                self.computed += 1
                if number == self._number and len(self._pieces) < MAX_PIECES:
                    self._pieces[key] = value
            return value
        finally:
            with self._lock:
                self._computing.pop(key, None)
            mine.set()
