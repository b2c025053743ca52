"""ML2 segments and the allocation tables of the type drivers.

A network has one or more segments (type, physical network, segmentation id). Allocation rows
exist for every id in the configured ranges (``allocated`` false); taking one is an
``UPDATE ... WHERE allocated = false`` whose row count tells whether a concurrent writer won.
Ids outside the ranges (given by an admin) get a row inserted with ``allocated`` true and
deleted on release, as Neutron does.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base, HasId, StandardAttrs


class NetworkSegment(HasId, StandardAttrs, Base):
    """A segment; ``name`` and the standard attributes are the ``segment`` API's
    (``/v2.0/segments``, domain/services/segments.py)."""

    __tablename__ = "network_segments"

    network_id: Mapped[str] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), index=True, nullable=False
    )
    network_type: Mapped[str] = mapped_column(String(32), nullable=False)
    physical_network: Mapped[str | None] = mapped_column(String(64), nullable=True)
    segmentation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    segment_index: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    is_dynamic: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)


class VlanAllocation(Base):
    __tablename__ = "ml2_vlan_allocations"

    physical_network: Mapped[str] = mapped_column(String(64), primary_key=True)
    vlan_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    allocated: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False, index=True)


class VxlanAllocation(Base):
    __tablename__ = "ml2_vxlan_allocations"

    vxlan_vni: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    allocated: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False, index=True)


class GeneveAllocation(Base):
    __tablename__ = "ml2_geneve_allocations"

    geneve_vni: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    allocated: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False, index=True)


class FlatAllocation(Base):
    __tablename__ = "ml2_flat_allocations"

    physical_network: Mapped[str] = mapped_column(String(64), primary_key=True)


class TunnelEndpoint(Base):
    """A host's tunnel address per tunnel type (ml2_vxlan_endpoints and friends in Neutron)."""

    __tablename__ = "ml2_tunnel_endpoints"

    tunnel_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    ip_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), index=True, nullable=False)
    udp_port: Mapped[int | None] = mapped_column(Integer, nullable=True)
