"""Routers, their ports and routes, and floating IPs (Neutron's l3_db tables)."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base, HasId, HasProject, StandardAttrs


class Router(HasId, HasProject, StandardAttrs, Base):
    __tablename__ = "routers"

    name: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE", nullable=False)
    gw_port_id: Mapped[str | None] = mapped_column(
        ForeignKey("ports.id", ondelete="SET NULL"), nullable=True
    )
    enable_snat: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    # availability_zone_hints, comma-separated as Neutron stores them ('' for none)
    az_hints: Mapped[str] = mapped_column(String(255), default="", nullable=False)


class RouterPort(Base):
    """Which ports belong to a router, and as what (interface or gateway)."""

    __tablename__ = "router_ports"

    router_id: Mapped[str] = mapped_column(ForeignKey("routers.id", ondelete="CASCADE"), primary_key=True)
    port_id: Mapped[str] = mapped_column(ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    port_type: Mapped[str] = mapped_column(String(255), nullable=False)


class RouterRoute(Base):
    __tablename__ = "router_routes"

    router_id: Mapped[str] = mapped_column(ForeignKey("routers.id", ondelete="CASCADE"), primary_key=True)
    destination: Mapped[str] = mapped_column(String(64), primary_key=True)
    nexthop: Mapped[str] = mapped_column(String(64), primary_key=True)


class FloatingIP(HasId, HasProject, StandardAttrs, Base):
    __tablename__ = "floatingips"
    __table_args__ = (UniqueConstraint("floating_network_id", "fixed_port_id", "fixed_ip_address"),)

    floating_ip_address: Mapped[str] = mapped_column(String(64), nullable=False)
    floating_network_id: Mapped[str] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), nullable=False, index=True
    )
    floating_port_id: Mapped[str] = mapped_column(
        ForeignKey("ports.id", ondelete="CASCADE"), nullable=False
    )
    fixed_port_id: Mapped[str | None] = mapped_column(
        ForeignKey("ports.id", ondelete="SET NULL"), nullable=True, index=True
    )
    fixed_ip_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    router_id: Mapped[str | None] = mapped_column(
        ForeignKey("routers.id", ondelete="SET NULL"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="DOWN", nullable=False)
