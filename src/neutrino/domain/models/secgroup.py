"""Security groups, their rules, which ports use them, and each project's default group."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base, HasId, HasProject, StandardAttrs


class SecurityGroup(HasId, HasProject, StandardAttrs, Base):
    __tablename__ = "security_groups"

    name: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    stateful: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)


class SecurityGroupRule(HasId, HasProject, StandardAttrs, Base):
    __tablename__ = "security_group_rules"

    security_group_id: Mapped[str] = mapped_column(
        ForeignKey("security_groups.id", ondelete="CASCADE"), index=True, nullable=False
    )
    remote_group_id: Mapped[str | None] = mapped_column(
        ForeignKey("security_groups.id", ondelete="CASCADE"), nullable=True
    )
    direction: Mapped[str] = mapped_column(String(16), nullable=False)
    ethertype: Mapped[str] = mapped_column(String(8), nullable=False)
    protocol: Mapped[str | None] = mapped_column(String(40), nullable=True)
    port_range_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    port_range_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    remote_ip_prefix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # an address group in use by a rule cannot be deleted (409, checked by the service)
    remote_address_group_id: Mapped[str | None] = mapped_column(ForeignKey("address_groups.id"), nullable=True)


class SecurityGroupPortBinding(Base):
    __tablename__ = "security_group_port_bindings"

    port_id: Mapped[str] = mapped_column(ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(
        ForeignKey("security_groups.id"), primary_key=True, index=True
    )


class DefaultSecurityGroup(Base):
    """One row per project: makes the lazy creation of ``default`` safe under concurrency."""

    __tablename__ = "default_security_groups"

    project_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(
        ForeignKey("security_groups.id", ondelete="CASCADE"), nullable=False
    )
