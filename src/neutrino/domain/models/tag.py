"""Tags of any standard resource, keyed by the resource's id (ids are UUIDs, unique everywhere)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base


class Tag(Base):
    __tablename__ = "tags"

    resource_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tag: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)
    resource_type: Mapped[str] = mapped_column(String(32), nullable=False)
