"""``vxlan``: VXLAN segments (VNIs from ``vni_ranges``), 50 bytes of IPv4 overhead."""

from __future__ import annotations

from neutrino.domain.ml2.api import TYPE_VXLAN
from neutrino.domain.ml2.types import mtu, segment_alloc
from neutrino.domain.ml2.types.tunnel import TunnelTypeDriver
from neutrino.domain.models import VxlanAllocation
from neutrino.domain.config import DomainConfig


class VxlanTypeDriver(TunnelTypeDriver):
    network_type = TYPE_VXLAN
    table = segment_alloc.AllocTable(VxlanAllocation.__table__, "vxlan_vni")

    def configured_ranges(self, cfg: DomainConfig) -> tuple[str, ...]:
        return tuple(cfg.vni_ranges)

    def get_mtu(self, physical_network: str | None = None) -> int:
        return mtu.tunnel_mtu(self.cfg.global_physnet_mtu, self.cfg.path_mtu, mtu.VXLAN_ENCAP_OVERHEAD)
