"""What the tunnel types (vxlan, geneve) share: a VNI pool from ranges, no physnet."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.ml2.api import Segment, TypeDriver
from neutrino.domain.ml2 import segment_ranges
from neutrino.domain.ml2.types import ranges, segment_alloc
from neutrino.domain.config import DomainConfig


class TunnelTypeDriver(TypeDriver):
    table: ClassVar[segment_alloc.AllocTable]
    max_id: ClassVar[int] = ranges.MAX_VNI

    def __init__(self, cfg: DomainConfig) -> None:
        super().__init__(cfg)
        self.ranges = ranges.parse_tunnel_ranges(self.configured_ranges(cfg), self.max_id)

    @abstractmethod
    def configured_ranges(self, cfg: DomainConfig) -> tuple[str, ...]:
        """The option holding this type's ranges (``min:max`` entries)."""

    def is_partial_segment(self, segment: Segment) -> bool:
        return segment.segmentation_id is None

    def validate_provider_segment(self, segment: Segment) -> None:
        if segment.physical_network is not None:
            raise errors.InvalidInput(
                error_message=f"physical_network prohibited for {self.network_type} provider network"
            )
        seg_id = segment.segmentation_id
        if seg_id is not None and not ranges.MIN_VNI <= seg_id <= self.max_id:
            raise errors.InvalidInput(
                error_message=f"segmentation_id out of range ({ranges.MIN_VNI} through {self.max_id})"
            )

    def reserve_provider_segment(self, session: Session, segment: Segment, project_id: str | None = None) -> Segment:
        seg_id = segment.segmentation_id
        if seg_id is None:
            found = self.allocate_tenant_segment(session, project_id)
            if found is None:
                raise errors.NoNetworkAvailable()
            return found
        if not segment_alloc.reserve_specific(session, self.table, (), seg_id):
            raise errors.TunnelIdInUse(tunnel_id=seg_id)
        return Segment(self.network_type, None, seg_id)

    def allocate_tenant_segment(self, session: Session, project_id: str | None = None) -> Segment | None:
        for where in segment_ranges.tiers(session, self.network_type, self.table, project_id):
            found = segment_alloc.allocate_free(session, self.table, where=where)
            if found is not None:
                return Segment(self.network_type, None, found[1])
        return None

    def release_segment(self, session: Session, segment: Segment) -> None:
        seg_id = segment.segmentation_id
        if seg_id is None:
            return
        in_range = ranges.covered(seg_id, self.ranges) or segment_ranges.covers(session, self.network_type, None, seg_id)
        segment_alloc.release(session, self.table, (), seg_id, in_range=in_range)

    def sync_allocations(self, session: Session) -> None:
        """Rows for the configured ranges and the stored segment ranges; the ``default``
        segment ranges mirror the configured ones."""
        segment_ranges.sync_defaults(session, self.network_type, {"": self.ranges})
        wanted = ranges.ids_in(self.ranges) | segment_ranges.stored_ids(session, self.network_type).get("", set())
        segment_alloc.sync(session, self.table, {(): wanted})
