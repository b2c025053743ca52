"""Port bindings (which host, which driver, which segment) and provisioning blocks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base


class PortBinding(Base):
    __tablename__ = "ml2_port_bindings"

    port_id: Mapped[str] = mapped_column(ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), default="", nullable=False, index=True)
    vnic_type: Mapped[str] = mapped_column(String(64), default="normal", nullable=False)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    vif_type: Mapped[str] = mapped_column(String(64), default="unbound", nullable=False)
    vif_details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE", nullable=False)


class PortBindingLevel(Base):
    __tablename__ = "ml2_port_binding_levels"

    port_id: Mapped[str] = mapped_column(ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    driver: Mapped[str | None] = mapped_column(String(64), nullable=True)
    segment_id: Mapped[str | None] = mapped_column(
        ForeignKey("network_segments.id", ondelete="SET NULL"), nullable=True
    )


class ProvisioningBlock(Base):
    """An entity (L2, DHCP) that still has to report a port wired before it is ACTIVE."""

    __tablename__ = "provisioning_blocks"

    resource_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    entity: Mapped[str] = mapped_column(String(32), primary_key=True)
