"""Flavors and service profiles (Neutron's ``flavors``, ``serviceprofiles`` and
``flavorserviceprofilebindings`` tables; the ``flavors`` extension).

A flavor names a kind of service (``service_type``: a service plugin type such as
``L3_ROUTER_NAT``) an operator offers; a service profile says which provider driver (or
free-form ``metainfo``) implements it. Neither has a project nor the standard attributes, as in
Neutron. The binding rows go with either end (ON DELETE CASCADE); the service refuses to delete
a profile still bound (ServiceProfileInUse), as Neutron does.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base, HasId


class Flavor(HasId, Base):
    __tablename__ = "flavors"

    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    description: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    service_type: Mapped[str | None] = mapped_column(String(36), nullable=True)


class ServiceProfile(HasId, Base):
    __tablename__ = "serviceprofiles"

    description: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    driver: Mapped[str] = mapped_column(String(1024), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    metainfo: Mapped[str | None] = mapped_column(String(4096), nullable=True)


class FlavorServiceProfileBinding(Base):
    __tablename__ = "flavorserviceprofilebindings"

    flavor_id: Mapped[str] = mapped_column(ForeignKey("flavors.id", ondelete="CASCADE"), primary_key=True)
    service_profile_id: Mapped[str] = mapped_column(
        ForeignKey("serviceprofiles.id", ondelete="CASCADE"), primary_key=True, index=True
    )
