"""Per-project quota overrides; absent rows mean the configured default."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base


class Quota(Base):
    __tablename__ = "quotas"

    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(String(255), primary_key=True)
    limit: Mapped[int] = mapped_column(Integer, nullable=False)
