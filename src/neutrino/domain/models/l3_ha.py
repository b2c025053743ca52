"""HA routers (Neutron's l3_hamode tables): which routers are HA and their VRRP id, each
project's HA network, and the HA port of each (router, L3 agent) with its VRRP state.

A router is HA exactly when it has an ``ha_routers`` row. The VRRP id is unique within the HA
network the router's VRRP traffic runs on (one per project), as keepalived instances sharing a
segment must not share a virtual router id.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base


class HaRouter(Base):
    __tablename__ = "ha_routers"
    __table_args__ = (UniqueConstraint("network_id", "vr_id"),)

    router_id: Mapped[str] = mapped_column(ForeignKey("routers.id", ondelete="CASCADE"), primary_key=True)
    network_id: Mapped[str | None] = mapped_column(ForeignKey("networks.id", ondelete="SET NULL"), nullable=True)
    vr_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class HaNetwork(Base):
    """The HA network of a project (owned by no project, hidden from it)."""

    __tablename__ = "ha_router_networks"

    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    network_id: Mapped[str] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), nullable=False, unique=True
    )


class HaPortBinding(Base):
    """One HA port per (router, L3 agent): the ``ha-`` device VRRP speaks on, and the state
    (active/standby) that agent last reported for the router."""

    __tablename__ = "ha_router_agent_port_bindings"
    __table_args__ = (UniqueConstraint("router_id", "l3_agent_id"),)

    port_id: Mapped[str] = mapped_column(ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    router_id: Mapped[str] = mapped_column(ForeignKey("routers.id", ondelete="CASCADE"), nullable=False, index=True)
    l3_agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="standby", nullable=False)
