"""Names on the dataplane: the ones operators of Neutron know, within the kernel's limits.

Interface names are at most 15 characters (IFNAMSIZ - 1): a prefix plus the first 11
characters of the port id (``tap1a2b3c4d-5e``, ``qvo...``, ``qr-...``), as Neutron and Nova
name them. Namespaces are ``qdhcp-<network id>`` and ``qrouter-<router id>``, with the host's
prefix in the lab. Tunnel ports are ``vxlan-<hex of the remote IP>``. Patch ports between
br-int and br-<physnet> are ``int-br-<physnet>`` / ``phy-br-<physnet>``, cut to 15.
"""

from __future__ import annotations

import functools
import ipaddress

IFNAMSIZ = 15
ID_CHARS = 11

TAP, QBR, QVB, QVO = "tap", "qbr", "qvb", "qvo"
QR, QG, DHCP_NS_DEV = "qr-", "qg-", "ns-"
HA_DEV = "ha-"


@functools.lru_cache(maxsize=65536)
def device(prefix: str, port_id: str) -> str:
    """``prefix`` + the first 11 characters of ``port_id`` (``tap1a2b3c4d-5e``). Remembered:
    a firewall render names four devices per port, and the name check was a tenth of it."""
    name = prefix + port_id[:ID_CHARS]
    check_ifname(name)
    return name


def hybrid_devices(port_id: str) -> dict[str, str]:
    """The four names of a hybrid-plugged VIF: tap (VM side), qbr, qvb (bridge side), qvo (br-int)."""
    return {kind: device(kind, port_id) for kind in (TAP, QBR, QVB, QVO)}


def dhcp_namespace(network_id: str, prefix: str = "") -> str:
    return f"{prefix}qdhcp-{network_id}"


def router_namespace(router_id: str, prefix: str = "") -> str:
    return f"{prefix}qrouter-{router_id}"


def tunnel_port(network_type: str, remote_ip: str) -> str:
    """``vxlan-ac1f0003`` for 172.31.0.3 (Neutron's form; IPv6 is hashed down to 8 hex digits)."""
    addr = ipaddress.ip_address(remote_ip)
    digits = f"{int(addr):08x}" if addr.version == 4 else f"{hash_v6(addr):08x}"
    name = f"{network_type}-{digits}"
    check_ifname(name)
    return name


def hash_v6(addr: ipaddress.IPv6Address) -> int:
    value = int(addr)
    out = 0
    while value:
        out ^= value & 0xFFFFFFFF
        value >>= 32
    return out


def patch_ports(physnet_bridge: str) -> tuple[str, str]:
    """(port on br-int, port on br-<physnet>): ``int-br-eth1``, ``phy-br-eth1``."""
    return (f"int-{physnet_bridge}"[:IFNAMSIZ], f"phy-{physnet_bridge}"[:IFNAMSIZ])


def physnet_bridge(physnet: str) -> str:
    return f"br-{physnet}"[:IFNAMSIZ]


def check_ifname(name: str) -> str:
    if not name or len(name) > IFNAMSIZ or "/" in name or any(c.isspace() for c in name):
        raise ValueError(f"invalid interface name {name!r} (1-{IFNAMSIZ} characters, no '/' or spaces)")
    return name


TRUNK_BRIDGE_PREFIX = "tbr-"


def trunk_bridge(trunk_id: str) -> str:
    """``tbr-`` + the trunk id, cut to 14 characters (Neutron's ``gen_trunk_br_name``): the
    bridge the instance's VIF is plugged into when its port is a trunk's parent."""
    return (TRUNK_BRIDGE_PREFIX + trunk_id)[: IFNAMSIZ - 1]


def trunk_patch_ports(prefix: str, port_id: str) -> tuple[str, str]:
    """(br-int side, trunk bridge side) of the patch pair of a trunk's port: ``tpi-``/``tpt-``
    for the parent (prefix ``tp``), ``spi-``/``spt-`` for a subport (``sp``), + the port id, cut
    to 15 characters, as Neutron's OVS trunk manager names them."""
    return (f"{prefix}i-{port_id}")[:IFNAMSIZ], (f"{prefix}t-{port_id}")[:IFNAMSIZ]
