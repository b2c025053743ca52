"""Per-port extras: allowed address pairs and extra DHCP options."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base, HasId


class AllowedAddressPair(Base):
    __tablename__ = "allowed_address_pairs"

    port_id: Mapped[str] = mapped_column(ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    mac_address: Mapped[str] = mapped_column(String(32), primary_key=True)
    ip_address: Mapped[str] = mapped_column(String(64), primary_key=True)


class ExtraDhcpOpt(HasId, Base):
    __tablename__ = "extra_dhcp_opts"
    __table_args__ = (UniqueConstraint("port_id", "opt_name", "ip_version"),)

    port_id: Mapped[str] = mapped_column(ForeignKey("ports.id", ondelete="CASCADE"), nullable=False, index=True)
    opt_name: Mapped[str] = mapped_column(String(64), nullable=False)
    opt_value: Mapped[str] = mapped_column(String(255), nullable=False)
    ip_version: Mapped[int] = mapped_column(Integer, default=4, nullable=False)
