"""The template of the rules new security groups start with (``security-groups-default-rules``).

``remote_group_id`` is either None or the keyword ``PARENT`` (the new group itself), so it is
a plain string, not a foreign key. Templates belong to no project: only an admin manages them.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base, HasId, StandardAttrs


class DefaultSecurityGroupRule(HasId, StandardAttrs, Base):
    __tablename__ = "default_security_group_rules"

    direction: Mapped[str] = mapped_column(String(16), nullable=False)
    ethertype: Mapped[str] = mapped_column(String(8), nullable=False)
    protocol: Mapped[str | None] = mapped_column(String(40), nullable=True)
    port_range_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    port_range_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    remote_ip_prefix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    remote_group_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    remote_address_group_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    used_in_default_sg: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    used_in_non_default_sg: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
