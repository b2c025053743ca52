"""``geneve``: Geneve segments (VNIs from ``geneve_vni_ranges``); the MTU leaves room for the
largest header the deployment allows (``geneve_max_header_size``)."""

from __future__ import annotations

from neutrino.domain.ml2.api import TYPE_GENEVE
from neutrino.domain.ml2.types import mtu, segment_alloc
from neutrino.domain.ml2.types.tunnel import TunnelTypeDriver
from neutrino.domain.models import GeneveAllocation
from neutrino.domain.config import DomainConfig


class GeneveTypeDriver(TunnelTypeDriver):
    network_type = TYPE_GENEVE
    table = segment_alloc.AllocTable(GeneveAllocation.__table__, "geneve_vni")

    def configured_ranges(self, cfg: DomainConfig) -> tuple[str, ...]:
        return tuple(cfg.geneve_vni_ranges)

    def get_mtu(self, physical_network: str | None = None) -> int:
        return mtu.tunnel_mtu(self.cfg.global_physnet_mtu, self.cfg.path_mtu, self.cfg.geneve_max_header_size)
