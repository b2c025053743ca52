"""What the bus keeps in the database so that every API worker sees the same thing.

``BusEvent`` is the log the HTTP transport's long poll reads (``bus/events.py``): one row per
notification published to a host topic, numbered by a sequence all workers share, pruned to a
bounded size and age. ``BusFingerprint`` is the desired-state fingerprint last announced per
host, so that whichever worker commits a change compares against what any worker announced
(``bus/server.py``'s Notifier), and a change is announced once, not once per worker.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base, utcnow

# SQLite numbers rows itself only for an INTEGER PRIMARY KEY
SEQ_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class BusEvent(Base):
    __tablename__ = "bus_events"
    __table_args__ = (Index("ix_bus_events_topic_seq", "topic", "seq"),)

    seq: Mapped[int] = mapped_column(SEQ_TYPE, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(255), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class BusFingerprint(Base):
    __tablename__ = "bus_fingerprints"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(255), nullable=False)
