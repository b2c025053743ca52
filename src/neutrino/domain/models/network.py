"""The network: an isolated L2 broadcast domain owned by a project, possibly shared."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from neutrino.domain.models.base import Base, HasId, HasProject, StandardAttrs

if TYPE_CHECKING:
    from neutrino.domain.models.port import Port
    from neutrino.domain.models.subnet import Subnet


class Network(HasId, HasProject, StandardAttrs, Base):
    __tablename__ = "networks"

    name: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE", nullable=False)
    shared: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    mtu: Mapped[int] = mapped_column(Integer, default=1500, nullable=False)
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    router_external: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # availability_zone_hints, comma-separated as Neutron stores them ('' for none)
    az_hints: Mapped[str] = mapped_column(String(255), default="", nullable=False)

    subnets: Mapped[list[Subnet]] = relationship(
        back_populates="network", order_by="Subnet.created_at", lazy="raise_on_sql"
    )
    ports: Mapped[list[Port]] = relationship(back_populates="network", lazy="raise_on_sql")
