"""DNS attributes (``dns-integration``, ``dns-domain-ports``): a network's ``dns_domain`` and
a port's ``dns_name`` / ``dns_domain``. A row exists only when a value was set, as Neutron's
``networkdnsdomains`` and ``portdnses``."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base


class NetworkDNSDomain(Base):
    __tablename__ = "network_dns_domains"

    network_id: Mapped[str] = mapped_column(ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True)
    dns_domain: Mapped[str] = mapped_column(String(255), nullable=False)


class PortDNS(Base):
    __tablename__ = "port_dns"

    port_id: Mapped[str] = mapped_column(ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    dns_name: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    dns_domain: Mapped[str] = mapped_column(String(255), default="", nullable=False)
