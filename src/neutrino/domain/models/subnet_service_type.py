"""subnet-service-types: the device owners whose ports take addresses from a subnet."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base


class SubnetServiceType(Base):
    __tablename__ = "subnet_service_types"

    subnet_id: Mapped[str] = mapped_column(ForeignKey("subnets.id", ondelete="CASCADE"), primary_key=True)
    service_type: Mapped[str] = mapped_column(String(255), primary_key=True)
