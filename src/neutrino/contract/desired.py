"""The data of the server-to-agent contract (frozen dataclasses, JSON-able): what one host must make real.

Each resource carries its ``revision_number`` so an agent can tell what changed since it last
converged; the whole state carries ``fingerprint``, a digest of its content, so "nothing
changed" costs one comparison. ``FORMAT_VERSION`` changes when a field's meaning changes.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

FORMAT_VERSION = 3
"""2: remote groups are listed once per host (``remote_groups``), not expanded into every rule.
3: a rule may name a remote address group (``remote_address_group_id``), listed in
``remote_groups`` too; an agent of format 2 would read such a rule as "any remote".
``DesiredParts`` (the parts of a state a notification named) carries the same version: an agent
merges parts only of the format its whole states have."""


@dataclass(frozen=True)
class Segment:
    network_type: str
    physical_network: str | None
    segmentation_id: int | None
    mtu: int


@dataclass(frozen=True)
class FixedIP:
    subnet_id: str
    ip_address: str
    cidr: str
    gateway_ip: str | None

    @property
    def prefixlen(self) -> int:
        return int(self.cidr.rsplit("/", 1)[1])


@dataclass(frozen=True)
class SecurityRule:
    """One rule. ``remote_ip_prefixes`` is the rule's own prefix, or empty; a rule with a
    ``remote_group_id`` matches that group's members, listed once per host in
    ``DesiredHostState.remote_groups`` (so that N ports in a group cost N, not N squared); a
    rule with a ``remote_address_group_id`` matches that address group's CIDRs, listed there
    the same way. A rule whose remote group has no address of its family matches nothing."""

    security_group_id: str
    direction: str
    ethertype: str
    protocol: str | None
    port_range_min: int | None
    port_range_max: int | None
    remote_ip_prefixes: tuple[str, ...]
    remote_group_id: str | None = None
    remote_address_group_id: str | None = None

    @property
    def remote_set_id(self) -> str | None:
        """The id of the ``RemoteGroup`` this rule matches (a security or an address group)."""
        return self.remote_group_id or self.remote_address_group_id


@dataclass(frozen=True)
class RemoteGroup:
    """The addresses of a security group's members (fixed IPs and allowed address pairs), or
    the CIDRs of an address group (ids never collide: both are UUIDs)."""

    group_id: str
    ipv4: tuple[str, ...]
    ipv6: tuple[str, ...]


@dataclass(frozen=True)
class QosLimits:
    """What a port's QoS policy (its own, else its network's) asks of the L2 agent: bandwidth
    limits in kbit/s (egress: from the VM; ingress: to it; burst in kbit, None: the agent's
    default) and the DSCP mark of the VM's IP traffic. None fields: no such rule."""

    egress_kbps: int | None = None
    egress_burst_kbps: int | None = None
    ingress_kbps: int | None = None
    ingress_burst_kbps: int | None = None
    dscp_mark: int | None = None


@dataclass(frozen=True)
class BoundPort:
    """A port bound to this host: what the L2 agent and the firewall wire."""

    port_id: str
    network_id: str
    mac_address: str
    admin_state_up: bool
    device_owner: str
    device_id: str
    vif_type: str
    segment: Segment | None
    fixed_ips: tuple[FixedIP, ...]
    port_security_enabled: bool
    security_groups: tuple[str, ...]
    rules: tuple[SecurityRule, ...]
    allowed_address_pairs: tuple[tuple[str, str], ...]
    """(ip_address or CIDR, mac_address) pairs the port may also send from."""
    revision_number: int
    qos: QosLimits | None = None
    dhcp_servers: tuple[tuple[str, str], ...] = ()
    """(address, MAC) of each of the network's DHCP ports (one per DHCP agent serving it): the
    only sources of DHCP replies the firewall lets through to this port."""


@dataclass(frozen=True)
class DhcpSubnet:
    subnet_id: str
    cidr: str
    ip_version: int
    gateway_ip: str | None
    enable_dhcp: bool
    ipv6_address_mode: str | None
    ipv6_ra_mode: str | None
    dns_nameservers: tuple[str, ...]
    host_routes: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class DhcpPort:
    port_id: str
    mac_address: str
    device_owner: str
    fixed_ips: tuple[FixedIP, ...]
    extra_dhcp_opts: tuple[tuple[str, str, int], ...]
    """(opt_name, opt_value, ip_version)"""
    revision_number: int = 0
    """The DHCP agent reports the port ready again when it changes (a binding adds a DHCP block)."""
    dns_name: str = ""
    """The port's ``dns_name`` (dns-integration): its hostname in DHCP answers and in dnsmasq's
    DNS; empty means ``host-<ip with dashes>``."""


@dataclass(frozen=True)
class DhcpNetwork:
    """A network whose DHCP service is scheduled to this host; ``ports`` are all its ports."""

    network_id: str
    segment: Segment | None
    mtu: int
    subnets: tuple[DhcpSubnet, ...]
    ports: tuple[DhcpPort, ...]
    dhcp_port_ids: tuple[str, ...]
    """This host's own DHCP port (its device_id names the host); the agent asks for one if empty."""
    revision_number: int


@dataclass(frozen=True)
class RouterInterface:
    port_id: str
    network_id: str
    mac_address: str
    fixed_ips: tuple[FixedIP, ...]
    segment: Segment | None
    address_scope_v4: str | None = None
    """The address scope of the interface's IPv4 subnets (their pool's), None for none."""
    address_scope_v6: str | None = None


@dataclass(frozen=True)
class RouterGateway:
    port_id: str
    network_id: str
    mac_address: str
    fixed_ips: tuple[FixedIP, ...]
    segment: Segment | None
    enable_snat: bool
    address_scope_v4: str | None = None
    address_scope_v6: str | None = None


@dataclass(frozen=True)
class FloatingIPState:
    floatingip_id: str
    floating_ip_address: str
    fixed_ip_address: str | None
    port_id: str | None
    status: str


@dataclass(frozen=True)
class PortForwardingState:
    """A floating IP port forwarding: ``floating_ip_address:external ports`` of ``protocol`` to
    ``internal_ip_address:internal ports`` (inclusive ranges; one internal port serves a whole
    external range, or both ranges are equally wide and map port to port)."""

    floatingip_id: str
    floating_ip_address: str
    protocol: str
    external_port_start: int
    external_port_end: int
    internal_ip_address: str
    internal_port_start: int
    internal_port_end: int


@dataclass(frozen=True)
class ConntrackHelperState:
    """Connections entering the router for ``protocol``/``port`` get the conntrack ``helper``."""

    protocol: str
    port: int
    helper: str


@dataclass(frozen=True)
class RouterHa:
    """This host's part of an HA router: its HA port (the ``ha-`` device VRRP speaks on) and
    the router's VRRP id; keepalived then owns the router's addresses and routes."""

    vr_id: int
    port_id: str
    mac_address: str
    fixed_ips: tuple[FixedIP, ...]
    segment: Segment | None


@dataclass(frozen=True)
class RouterState:
    router_id: str
    admin_state_up: bool
    interfaces: tuple[RouterInterface, ...]
    gateway: RouterGateway | None
    routes: tuple[tuple[str, str], ...]
    """(destination, nexthop)"""
    floating_ips: tuple[FloatingIPState, ...]
    revision_number: int
    port_forwardings: tuple[PortForwardingState, ...] = ()
    conntrack_helpers: tuple[ConntrackHelperState, ...] = ()
    ha: RouterHa | None = None
    """Set for an HA router (l3-ha); None for a legacy one."""


@dataclass(frozen=True)
class TunnelPeer:
    """Another host's tunnel endpoint that shares at least one tunnelled network with us."""

    host: str
    tunnel_type: str
    ip_address: str
    network_ids: tuple[str, ...]


@dataclass(frozen=True)
class TrunkSubPort:
    """A subport: frames the instance tags with ``segmentation_id`` belong to this port."""

    port_id: str
    mac_address: str
    segmentation_id: int


@dataclass(frozen=True)
class TrunkState:
    """A trunk whose parent port is bound to this host: the L2 agent patches the trunk bridge
    the instance is plugged into (``tbr-<trunk id>``) to br-int, once for the parent (untagged)
    and once per subport (its VLAN)."""

    trunk_id: str
    parent_port_id: str
    parent_mac: str
    admin_state_up: bool
    subports: tuple[TrunkSubPort, ...]


@dataclass(frozen=True)
class RemotePort:
    """A port of a tunnelled network bound on another host (the l2population view): the tunnel
    endpoint its MAC lives behind, for a static forwarding entry, and its addresses, so that ARP
    and neighbour discovery for it are answered on this host instead of flooded."""

    network_id: str
    mac_address: str
    ip_addresses: tuple[str, ...]
    tunnel_ip: str


@dataclass(frozen=True)
class DesiredHostState:
    host: str
    ports: tuple[BoundPort, ...] = ()
    dhcp_networks: tuple[DhcpNetwork, ...] = ()
    routers: tuple[RouterState, ...] = ()
    tunnel_peers: tuple[TunnelPeer, ...] = ()
    local_tunnel_ip: str | None = None
    remote_groups: tuple[RemoteGroup, ...] = ()
    remote_ports: tuple[RemotePort, ...] = ()
    """Ports on the tunnel peers' side of this host's tunnelled networks (the Linux bridge
    agent's FDB and ARP/ND proxy entries; the OVS agent learns instead)."""
    trunks: tuple[TrunkState, ...] = ()
    format_version: int = FORMAT_VERSION
    fingerprint: str = field(default="", compare=False)

    def to_json(self) -> dict[str, Any]:
        # orjson serialises dataclasses natively, several times faster than dataclasses.asdict
        return orjson.loads(orjson.dumps(self))  # type: ignore[no-any-return]

    def with_fingerprint(self) -> DesiredHostState:
        body = orjson.dumps(dataclasses.replace(self, fingerprint=""), option=orjson.OPT_SORT_KEYS)
        digest = hashlib.sha256(body).hexdigest()[:32]
        return dataclasses.replace(self, fingerprint=digest)


@dataclass(frozen=True)
class GroupRules:
    """The rules of one security group, in the order a port's ``rules`` list them."""

    group_id: str
    rules: tuple[SecurityRule, ...]


@dataclass(frozen=True)
class DesiredParts:
    """The parts of a host's desired state that a ``host_changed`` named (``get_desired_parts``).

    ``ports``: those of ``asked_ports`` bound to the host now (an asked port not among them is
    not bound there); ``group_rules``: the rules of each of ``asked_groups``; ``remote_groups``:
    the members of the asked groups, of the returned ports' groups and of every remote group
    their rules name. The agent merges them into its last whole state (``agent/desired_merge.py``);
    what they cannot tell it, it fetches whole."""

    host: str
    asked_ports: tuple[str, ...] = ()
    asked_groups: tuple[str, ...] = ()
    ports: tuple[BoundPort, ...] = ()
    group_rules: tuple[GroupRules, ...] = ()
    remote_groups: tuple[RemoteGroup, ...] = ()
    format_version: int = FORMAT_VERSION
    dhcp_networks: tuple[str, ...] | None = None
    """The networks this host's DHCP agent serves (None: not answered, an older server)."""
    dhcp_ports: tuple[NetworkDhcpPort, ...] = ()
    """The DHCP entries of those of ``asked_ports`` that sit on one of ``dhcp_networks``."""
    tunnel_peers: tuple[TunnelPeer, ...] | None = None
    """This host's tunnel peers over the networks the agent named (``local_networks``), when an
    asked port is not bound here (it may be a peer's: l2population); None: not answered."""
    local_tunnel_ip: str | None = None
    remote_ports: tuple[RemotePort, ...] | None = None
    """The remote ports behind ``tunnel_peers`` (answered with them)."""


@dataclass(frozen=True)
class NetworkDhcpPort:
    """A port's DHCP entry on one network (``DesiredParts.dhcp_ports``)."""

    network_id: str
    port: DhcpPort
