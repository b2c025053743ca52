"""Which agent roles a kind of change concerns on the hosts it reaches (``hosts.py``).

A ``host_changed`` names them (``roles``), so that an agent with several roles runs only those
its changes concern (``agent/wake_roles.py``): a port's DHCP entry on a network host wakes its
DHCP role, not an L2 pass with its flows and firewall. Each kind maps to the part of the
desired state the role reads: bound ports, security groups, tunnels, trunks and QoS for L2; a
network's DHCP entries for DHCP; routers and floating IPs for L3.
"""

from __future__ import annotations

ALL_ROLES = ("l2", "dhcp", "l3")
"""What a kind not in ``ROLES_OF`` concerns (a network, a subnet pool, an agent, a host)."""

ROLES_OF: dict[str, tuple[str, ...]] = {
    "port_host": ("l2",), "port_dhcp": ("dhcp",), "port_router": ("l3",), "port_peers": ("l2",),
    "port_members": ("l2",), "port_trunk": ("l2",), "sg_rules": ("l2",), "sg_members": ("l2",),
    "address_group": ("l2",), "network_dhcp": ("dhcp",), "network_peers": ("l2",), "network_ports": ("l2",),
    "subnet_dhcp": ("dhcp",), "router": ("l3",), "router_peers": ("l2",), "floatingip": ("l3",), "qos": ("l2",),
    "trunk": ("l2",), "host_peers": ("l2",),
}  # fmt: skip


def roles_of(kind: str) -> tuple[str, ...]:
    return ROLES_OF.get(kind, ALL_ROLES)
