"""Network segment ranges (``network-segment-range``): the segmentation ids project networks of
a type take, per project or shared. The ``default`` ones mirror the server's configured ranges
(written at start, read-only through the API); an admin adds shared or project ranges."""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from neutrino.domain.models.base import Base, HasId, StandardAttrs


class NetworkSegmentRange(HasId, StandardAttrs, Base):
    __tablename__ = "network_segment_ranges"

    name: Mapped[str] = mapped_column(String(255), default="", nullable=False)
    default: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    shared: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    project_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    network_type: Mapped[str] = mapped_column(String(32), nullable=False)
    physical_network: Mapped[str] = mapped_column(String(64), default="", nullable=False)
    """'' for tunnel types (Neutron stores '' rather than NULL there too)."""
    minimum: Mapped[int] = mapped_column(Integer, nullable=False)
    maximum: Mapped[int] = mapped_column(Integer, nullable=False)
