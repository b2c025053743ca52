"""``flat``: an untagged physical network; at most one network per physnet.

``flat_networks`` lists the physnets that may carry one (``*``: any, empty: flat disabled).
The ``ml2_flat_allocations`` primary key makes a second network on the same physnet fail,
even when two creates race (the loser's IntegrityError retries and then sees the row).
Project networks are never flat.
"""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.ml2.api import TYPE_FLAT, Segment, TypeDriver
from neutrino.domain.ml2.types import mtu, ranges
from neutrino.domain.models import FlatAllocation
from neutrino.domain.config import DomainConfig

FLAT = FlatAllocation.__table__


def _invalid(msg: str) -> errors.InvalidInput:
    return errors.InvalidInput(error_message=msg)


class FlatTypeDriver(TypeDriver):
    network_type = TYPE_FLAT

    def __init__(self, cfg: DomainConfig) -> None:
        super().__init__(cfg)
        self.flat_networks = ranges.parse_flat_networks(cfg.flat_networks)

    def validate_provider_segment(self, segment: Segment) -> None:
        physnet = segment.physical_network
        if not physnet:
            raise _invalid("physical_network required for flat provider network")
        if self.flat_networks is not None and not self.flat_networks:
            raise _invalid("Flat provider networks are disabled")
        if self.flat_networks is not None and physnet not in self.flat_networks:
            raise _invalid(f"physical_network '{physnet}' unknown for flat provider network")
        if segment.segmentation_id is not None:
            raise _invalid("segmentation_id prohibited for flat provider network")

    def reserve_provider_segment(self, session: Session, segment: Segment, project_id: str | None = None) -> Segment:
        physnet = segment.physical_network
        conn = session.connection()
        if conn.execute(select(FLAT.c.physical_network).where(FLAT.c.physical_network == physnet)).first():
            raise errors.FlatNetworkInUse(physical_network=physnet)
        conn.execute(insert(FLAT).values(physical_network=physnet))
        return Segment(TYPE_FLAT, physnet)

    def allocate_tenant_segment(self, session: Session, project_id: str | None = None) -> Segment | None:
        return None

    def release_segment(self, session: Session, segment: Segment) -> None:
        session.connection().execute(delete(FLAT).where(FLAT.c.physical_network == segment.physical_network))

    def get_mtu(self, physical_network: str | None = None) -> int:
        return mtu.physical_mtu(self.cfg.global_physnet_mtu, self.cfg.physical_network_mtus, physical_network)
