"""Declarative base and the standard attributes every Neutron resource carries.

Neutron keeps description, timestamps and revision_number in a shared `standardattributes`
table; neutrino puts them on each resource's own row, which needs no join on every read and
keeps each table self-describing. Tags live in one table keyed by resource id.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    """Second precision, naive UTC: what Neutron stores and prints as YYYY-MM-DDTHH:MM:SSZ."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class StandardAttrs:
    """description, created_at, updated_at, revision_number (standard-attr-* extensions).

    ``revision_number`` is also the row's version counter: every ORM UPDATE or DELETE of the
    row carries ``WHERE revision_number = <the value read>``, so a writer that read the row
    before another one committed a change finds no row and gets ``StaleDataError``, which
    ``run_in_transaction`` answers by running the whole unit of work again. That keeps every
    increment of concurrent updates and makes If-Match atomic, on PostgreSQL (where writers
    run concurrently) as on SQLite. The services set the value themselves (``bump_revision``).
    """

    description: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    revision_number: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, object]:  # noqa: N805 - SQLAlchemy's declared_attr
        return {"version_id_col": cls.revision_number, "version_id_generator": False}

    def bump_revision(self) -> None:
        self.revision_number = (self.revision_number or 0) + 1
        self.updated_at = utcnow()


class HasId:
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


class HasProject:
    project_id: Mapped[str] = mapped_column(String(255), index=True, nullable=False)


def new_uuid_hex() -> str:
    """Keystone-style ids: 32 hex digits without dashes."""
    return uuid.uuid4().hex
