"""QoS policies, their rules, each project's default policy, and which ports and networks use one.

One table holds the rules of every type (a ``type`` column and the union of the types'
parameters): each type has two or three small fields, and one table keeps "the rules of a
policy" a single query. At most one rule per (policy, type, direction) is enforced by the
service, as Neutron does (docs/neutron-behaviour.md, "QoS").
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base, HasId, HasProject, StandardAttrs


class QosPolicy(HasId, HasProject, StandardAttrs, Base):
    __tablename__ = "qos_policies"

    name: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    shared: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)


class QosRule(HasId, Base):
    __tablename__ = "qos_rules"

    qos_policy_id: Mapped[str] = mapped_column(ForeignKey("qos_policies.id", ondelete="CASCADE"), index=True, nullable=False)
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    direction: Mapped[str | None] = mapped_column(String(16), nullable=True)
    max_kbps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_burst_kbps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    min_kbps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    min_kpps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    dscp_mark: Mapped[int | None] = mapped_column(Integer, nullable=True)


class QosDefaultPolicy(Base):
    """One row per project that has a default policy (the primary key makes it unique)."""

    __tablename__ = "qos_default_policies"

    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    qos_policy_id: Mapped[str] = mapped_column(ForeignKey("qos_policies.id", ondelete="CASCADE"), nullable=False)


class QosPortBinding(Base):
    __tablename__ = "qos_port_bindings"

    port_id: Mapped[str] = mapped_column(ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    qos_policy_id: Mapped[str] = mapped_column(ForeignKey("qos_policies.id"), index=True, nullable=False)


class QosNetworkBinding(Base):
    __tablename__ = "qos_network_bindings"

    network_id: Mapped[str] = mapped_column(ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True)
    qos_policy_id: Mapped[str] = mapped_column(ForeignKey("qos_policies.id"), index=True, nullable=False)
