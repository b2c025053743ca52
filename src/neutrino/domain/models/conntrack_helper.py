"""Conntrack helpers of routers (Neutron's ``conntrack_helpers`` table, l3-conntrack-helper).

A row says: connections entering the router for ``protocol``/``port`` get the kernel's
conntrack ``helper`` (ftp, tftp, sip, ...), which follows the related connections the protocol
opens. The unique constraint is Neutron's: one (router, protocol, port, helper) once.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base, HasId


class ConntrackHelper(HasId, Base):
    __tablename__ = "conntrack_helpers"
    __table_args__ = (UniqueConstraint("router_id", "protocol", "port", "helper", name="uq_conntrack_helpers0"),)

    router_id: Mapped[str] = mapped_column(ForeignKey("routers.id", ondelete="CASCADE"), nullable=False, index=True)
    protocol: Mapped[str] = mapped_column(String(40), nullable=False)
    port: Mapped[int] = mapped_column(Integer, nullable=False)
    helper: Mapped[str] = mapped_column(String(64), nullable=False)
