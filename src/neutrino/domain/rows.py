"""What render code may ask of a row that is either a Core ``Row`` (read paths) or an ORM
object (write paths)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Row


def preloaded(row: Any, name: str) -> Any:
    """An attribute a write path set on its ORM object (``ml2_segments``, ``ml2_binding``), or
    None. A Core Row never has one, and asking it with ``getattr(row, name, None)`` raises and
    catches an exception inside SQLAlchemy (tens of microseconds): twice per network, that was
    a fifth of the cost of listing 500 networks. A named tuple (the network read paths' rows)
    has none either."""
    return None if isinstance(row, Row | tuple) else getattr(row, name, None)
