"""Address groups (Neutron's ``address-group``): named sets of CIDRs a security group rule
can name as its remote (``remote_address_group_id``)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base, HasId, HasProject, StandardAttrs


class AddressGroup(HasId, HasProject, StandardAttrs, Base):
    __tablename__ = "address_groups"

    name: Mapped[str] = mapped_column(String(255), default="", nullable=False)


class AddressGroupAddress(Base):
    """One CIDR of a group, stored as its network (``192.168.0.10/24`` -> ``192.168.0.0/24``)."""

    __tablename__ = "address_group_addresses"

    address_group_id: Mapped[str] = mapped_column(
        ForeignKey("address_groups.id", ondelete="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
