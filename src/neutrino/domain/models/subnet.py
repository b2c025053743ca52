"""Subnets: an address range on a network, with pools, DNS servers and host routes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from neutrino.domain.models.base import Base, HasId, HasProject, StandardAttrs

if TYPE_CHECKING:
    from neutrino.domain.models.network import Network


class Subnet(HasId, HasProject, StandardAttrs, Base):
    __tablename__ = "subnets"

    network_id: Mapped[str] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), index=True, nullable=False
    )
    name: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    ip_version: Mapped[int] = mapped_column(Integer, nullable=False)
    cidr: Mapped[str] = mapped_column(String(64), nullable=False)
    gateway_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    enable_dhcp: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    ipv6_ra_mode: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ipv6_address_mode: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # the pool it was allocated from (domain/models/subnet_pool.py: no foreign key, as Neutron)
    subnetpool_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)

    network: Mapped[Network] = relationship(back_populates="subnets", lazy="raise_on_sql")
    allocation_pools: Mapped[list[AllocationPool]] = relationship(
        cascade="all, delete-orphan", order_by="AllocationPool.position"
    )
    dns_nameservers: Mapped[list[DNSNameServer]] = relationship(
        cascade="all, delete-orphan", order_by="DNSNameServer.position"
    )
    host_routes: Mapped[list[HostRoute]] = relationship(
        cascade="all, delete-orphan", order_by="HostRoute.position"
    )


class AllocationPool(Base):
    __tablename__ = "subnet_allocation_pools"

    subnet_id: Mapped[str] = mapped_column(
        ForeignKey("subnets.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_ip: Mapped[str] = mapped_column(String(64), nullable=False)
    last_ip: Mapped[str] = mapped_column(String(64), nullable=False)


class DNSNameServer(Base):
    __tablename__ = "subnet_dns_nameservers"

    subnet_id: Mapped[str] = mapped_column(
        ForeignKey("subnets.id", ondelete="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(String(128), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)


class HostRoute(Base):
    __tablename__ = "subnet_host_routes"

    subnet_id: Mapped[str] = mapped_column(
        ForeignKey("subnets.id", ondelete="CASCADE"), primary_key=True
    )
    destination: Mapped[str] = mapped_column(String(64), primary_key=True)
    nexthop: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
