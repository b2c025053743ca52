"""``vlan``: 802.1Q-tagged segments of the physnets in ``network_vlan_ranges``.

A provider VLAN names its physnet (which must be configured) and optionally its id (1-4094,
inside or outside the ranges); a project VLAN gets a random free id of any physnet's ranges.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.ml2.api import TYPE_VLAN, Segment, TypeDriver
from neutrino.domain.ml2 import segment_ranges
from neutrino.domain.ml2.types import mtu, ranges, segment_alloc
from neutrino.domain.models import VlanAllocation
from neutrino.domain.config import DomainConfig

TABLE = segment_alloc.AllocTable(VlanAllocation.__table__, "vlan_id", ("physical_network",))


def _invalid(msg: str) -> errors.InvalidInput:
    return errors.InvalidInput(error_message=msg)


class VlanTypeDriver(TypeDriver):
    network_type = TYPE_VLAN

    def __init__(self, cfg: DomainConfig) -> None:
        super().__init__(cfg)
        self.ranges = ranges.parse_vlan_ranges(cfg.network_vlan_ranges)

    def is_partial_segment(self, segment: Segment) -> bool:
        return segment.segmentation_id is None

    def validate_provider_segment(self, segment: Segment) -> None:
        physnet, seg_id = segment.physical_network, segment.segmentation_id
        if physnet:
            if physnet not in self.ranges:
                raise _invalid(f"physical_network '{physnet}' unknown for VLAN provider network")
            if seg_id is not None and not ranges.MIN_VLAN_TAG <= seg_id <= ranges.MAX_VLAN_TAG:
                raise _invalid(
                    f"segmentation_id out of range ({ranges.MIN_VLAN_TAG} through {ranges.MAX_VLAN_TAG})"
                )
        elif seg_id is not None:
            raise _invalid("segmentation_id requires physical_network for VLAN provider network")

    def reserve_provider_segment(self, session: Session, segment: Segment, project_id: str | None = None) -> Segment:
        physnet, seg_id = segment.physical_network, segment.segmentation_id
        if seg_id is not None:
            if not segment_alloc.reserve_specific(session, TABLE, (physnet,), seg_id):
                raise errors.VlanIdInUse(vlan_id=seg_id, physical_network=physnet)
            return Segment(TYPE_VLAN, physnet, seg_id)
        found = self._allocate(session, {"physical_network": physnet} if physnet else None, project_id)
        if found is None:
            raise errors.NoNetworkAvailable()
        return found

    def _allocate(self, session: Session, filters: dict[str, str] | None, project_id: str | None) -> Segment | None:
        for where in segment_ranges.tiers(session, TYPE_VLAN, TABLE, project_id):
            found = segment_alloc.allocate_free(session, TABLE, filters, where=where)
            if found is not None:
                return Segment(TYPE_VLAN, str(found[0][0]), found[1])
        return None

    def allocate_tenant_segment(self, session: Session, project_id: str | None = None) -> Segment | None:
        return self._allocate(session, None, project_id)

    def release_segment(self, session: Session, segment: Segment) -> None:
        physnet, seg_id = segment.physical_network, segment.segmentation_id
        if seg_id is None:
            return
        in_range = ranges.covered(seg_id, self.ranges.get(physnet or "", [])) or segment_ranges.covers(
            session, TYPE_VLAN, physnet, seg_id
        )
        segment_alloc.release(session, TABLE, (physnet,), seg_id, in_range=in_range)

    def get_mtu(self, physical_network: str | None = None) -> int:
        return mtu.physical_mtu(self.cfg.global_physnet_mtu, self.cfg.physical_network_mtus, physical_network)

    def sync_allocations(self, session: Session) -> None:
        """Rows for the configured ranges and the stored segment ranges; the ``default``
        segment ranges mirror the configured ones."""
        segment_ranges.sync_defaults(session, TYPE_VLAN, self.ranges)
        wanted = {(physnet,): ranges.ids_in(r) for physnet, r in self.ranges.items()}
        for physnet, ids in segment_ranges.stored_ids(session, TYPE_VLAN).items():
            wanted[(physnet,)] = wanted.get((physnet,), set()) | ids
        segment_alloc.sync(session, TABLE, wanted)
