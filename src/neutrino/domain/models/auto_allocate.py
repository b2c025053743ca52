"""Get-me-a-network: the default external network flag and each project's allocated topology.

``is_default`` belongs to external networks (Neutron keeps it in ``externalnetworks``); it is
stored beside the network so that the networks table stays as it is. A project's topology row
names the network and router built for it; Neutron keeps the same two ids per project.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base


class ExternalNetworkDefault(Base):
    __tablename__ = "external_network_defaults"

    network_id: Mapped[str] = mapped_column(ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)


class AutoAllocatedTopology(Base):
    __tablename__ = "auto_allocated_topologies"

    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    network_id: Mapped[str] = mapped_column(ForeignKey("networks.id", ondelete="CASCADE"), nullable=False)
    router_id: Mapped[str | None] = mapped_column(ForeignKey("routers.id", ondelete="SET NULL"), nullable=True)
