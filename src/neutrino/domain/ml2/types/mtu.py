"""The MTU a network gets from its segments (pure arithmetic, Neutron's rules).

Physical networks (flat, vlan) carry frames as they are: the physnet's own MTU if configured
(``physical_network_mtus``), capped by ``global_physnet_mtu``. Tunnels lose the outer IP header
and the encapsulation: VXLAN 20 + 30 bytes, Geneve 20 + ``max_header_size``, so a 1500 underlay
gives 1450. ``path_mtu`` (when set) caps the underlay for tunnels. A network's MTU is the
smallest over its segments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

IP_HEADER_LENGTH = {4: 20, 6: 40}
VXLAN_ENCAP_OVERHEAD = 30
GRE_ENCAP_OVERHEAD = 22


def _smallest_positive(*values: int) -> int:
    positive = [v for v in values if v and v > 0]
    return min(positive) if positive else 0


def physical_mtu(global_physnet_mtu: int, physnet_mtus: Mapping[str, int], physical_network: str | None) -> int:
    own = physnet_mtus.get(physical_network, 0) if physical_network else 0
    return _smallest_positive(global_physnet_mtu, own)


def tunnel_mtu(global_physnet_mtu: int, path_mtu: int, overhead: int, ip_version: int = 4) -> int:
    """``overhead``: the encapsulation beyond the outer IP header (VXLAN 30, GRE 22, Geneve
    max_header_size)."""
    underlay = _smallest_positive(global_physnet_mtu, path_mtu)
    if not underlay:
        return 0
    return underlay - IP_HEADER_LENGTH[ip_version] - overhead


def network_mtu(segment_mtus: Iterable[int], default: int) -> int:
    """The smallest positive segment MTU, else ``default`` (no segment constrains it)."""
    return _smallest_positive(*segment_mtus) or default
