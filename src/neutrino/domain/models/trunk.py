"""Trunks (VLAN-aware instances): a parent port and the subports it carries tagged.

A port is the parent of at most one trunk (unique ``port_id``) and a subport of at most one
(primary key ``port_id``); a segmentation (type, id) is used once per trunk. The database
enforces all three, so two racing requests cannot both win. Subports go with their trunk
(ON DELETE CASCADE); a port in a trunk is guarded by the service, never cascaded away.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base, HasId, HasProject, StandardAttrs


class Trunk(HasId, HasProject, StandardAttrs, Base):
    __tablename__ = "trunks"

    name: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    port_id: Mapped[str] = mapped_column(ForeignKey("ports.id"), unique=True, nullable=False)


class SubPort(Base):
    __tablename__ = "trunk_subports"
    __table_args__ = (UniqueConstraint("trunk_id", "segmentation_type", "segmentation_id"),)

    port_id: Mapped[str] = mapped_column(ForeignKey("ports.id"), primary_key=True)
    trunk_id: Mapped[str] = mapped_column(ForeignKey("trunks.id", ondelete="CASCADE"), index=True, nullable=False)
    segmentation_type: Mapped[str] = mapped_column(String(32), nullable=False)
    segmentation_id: Mapped[int] = mapped_column(Integer, nullable=False)
