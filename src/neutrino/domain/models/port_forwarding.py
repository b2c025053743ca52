"""Floating IP port forwardings (Neutron's ``portforwardings`` table).

A forwarding maps ``floating IP : external port (range)`` of one protocol to ``internal IP :
internal port (range)`` of a Neutron port. A single port is stored as a range of one
(``start == end``), as Neutron stores it since port ranges exist. The two unique constraints
are Neutron's: one external range per floating IP and protocol, one internal socket per port,
address and protocol.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base, HasId, StandardAttrs


class PortForwarding(HasId, StandardAttrs, Base):
    __tablename__ = "portforwardings"
    __table_args__ = (
        UniqueConstraint(
            "floatingip_id", "protocol", "external_port_start", "external_port_end", name="uq_portforwardings_external"
        ),
        UniqueConstraint(
            "protocol", "internal_port_id", "internal_ip_address", "internal_port_start", "internal_port_end",
            name="uq_portforwardings_internal",
        ),
    )

    floatingip_id: Mapped[str] = mapped_column(
        ForeignKey("floatingips.id", ondelete="CASCADE"), nullable=False, index=True
    )
    internal_port_id: Mapped[str] = mapped_column(
        ForeignKey("ports.id", ondelete="CASCADE"), nullable=False, index=True
    )
    protocol: Mapped[str] = mapped_column(String(40), nullable=False)
    internal_ip_address: Mapped[str] = mapped_column(String(64), nullable=False)
    internal_port_start: Mapped[int] = mapped_column(Integer, nullable=False)
    internal_port_end: Mapped[int] = mapped_column(Integer, nullable=False)
    external_port_start: Mapped[int] = mapped_column(Integer, nullable=False)
    external_port_end: Mapped[int] = mapped_column(Integer, nullable=False)
