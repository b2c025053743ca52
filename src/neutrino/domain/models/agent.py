"""Agents known from their heartbeats, and what is scheduled to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base, HasId, utcnow


class Agent(HasId, Base):
    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("agent_type", "host"),)

    agent_type: Mapped[str] = mapped_column(String(255), nullable=False)
    binary: Mapped[str] = mapped_column(String(255), nullable=False)
    topic: Mapped[str] = mapped_column(String(255), nullable=False)
    host: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    heartbeat_timestamp: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    description: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    configurations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    resource_versions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, nullable=False)
    availability_zone: Mapped[str | None] = mapped_column(String(255), nullable=True)
    load: Mapped[int] = mapped_column(Integer, default=0, nullable=False)


class NetworkDhcpAgentBinding(Base):
    __tablename__ = "network_dhcp_agent_bindings"

    network_id: Mapped[str] = mapped_column(ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True)
    dhcp_agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)


class RouterL3AgentBinding(Base):
    __tablename__ = "router_l3_agent_bindings"

    router_id: Mapped[str] = mapped_column(ForeignKey("routers.id", ondelete="CASCADE"), primary_key=True)
    l3_agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
