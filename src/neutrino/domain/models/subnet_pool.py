"""Subnet pools (with their prefixes) and address scopes.

A subnet's ``subnetpool_id`` and a pool's ``address_scope_id`` are plain indexed columns, as
in Neutron (no foreign keys): the services refuse to delete a pool with subnets or a scope
with pools. ``shared`` is a plain column on both; the RBAC policies of another area may later
grant access per project on top of it. Address scopes carry no standard attributes in Neutron
(no description, revision or timestamps), and neither do they here.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from neutrino.domain.models.base import Base, HasId, HasProject, StandardAttrs


class AddressScope(HasId, HasProject, Base):
    __tablename__ = "address_scopes"

    name: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    shared: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    ip_version: Mapped[int] = mapped_column(Integer, nullable=False)


class SubnetPool(HasId, HasProject, StandardAttrs, Base):
    __tablename__ = "subnetpools"

    name: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    ip_version: Mapped[int] = mapped_column(Integer, nullable=False)
    default_prefixlen: Mapped[int] = mapped_column(Integer, nullable=False)
    min_prefixlen: Mapped[int] = mapped_column(Integer, nullable=False)
    max_prefixlen: Mapped[int] = mapped_column(Integer, nullable=False)
    shared: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    default_quota: Mapped[int | None] = mapped_column(Integer, nullable=True)
    address_scope_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)

    prefixes: Mapped[list[SubnetPoolPrefix]] = relationship(
        cascade="all, delete-orphan", order_by="SubnetPoolPrefix.position", lazy="selectin"
    )

    @property
    def cidrs(self) -> list[str]:
        return [p.cidr for p in self.prefixes]


class SubnetPoolPrefix(Base):
    __tablename__ = "subnetpool_prefixes"

    subnetpool_id: Mapped[str] = mapped_column(
        ForeignKey("subnetpools.id", ondelete="CASCADE"), primary_key=True
    )
    cidr: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
