"""Ports and their IP allocations.

Uniqueness is enforced by the database, not by a lock: (network_id, mac_address) and
(subnet_id, ip_address) are unique, so two writers racing for one address cannot both commit;
the loser's transaction is retried and picks another address.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from neutrino.domain.models.base import Base, HasId, HasProject, StandardAttrs

if TYPE_CHECKING:
    from neutrino.domain.models.network import Network


class Port(HasId, HasProject, StandardAttrs, Base):
    __tablename__ = "ports"
    __table_args__ = (
        UniqueConstraint("network_id", "mac_address"),
        Index("ix_ports_device_id", "device_id"),
    )

    network_id: Mapped[str] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), index=True, nullable=False
    )
    name: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    mac_address: Mapped[str] = mapped_column(String(32), nullable=False)
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="DOWN", nullable=False)
    device_id: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    device_owner: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    network: Mapped[Network] = relationship(back_populates="ports", lazy="raise_on_sql")
    fixed_ips: Mapped[list[IPAllocation]] = relationship(
        cascade="all, delete-orphan", order_by="IPAllocation.position", lazy="selectin"
    )


class IPAllocation(Base):
    __tablename__ = "ipallocations"

    subnet_id: Mapped[str] = mapped_column(
        ForeignKey("subnets.id", ondelete="CASCADE"), primary_key=True
    )
    ip_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    port_id: Mapped[str] = mapped_column(
        ForeignKey("ports.id", ondelete="CASCADE"), index=True, nullable=False
    )
    network_id: Mapped[str] = mapped_column(String(36), index=True, nullable=False)
    position: Mapped[int] = mapped_column(default=0, nullable=False)
