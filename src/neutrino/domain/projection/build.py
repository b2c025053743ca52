"""DB rows → DesiredHostState for one host (read-only; one transaction; batched queries).

What a host must realise: its bound ports (with segment, addresses, security rules with remote
groups and address groups resolved, allowed address pairs), the DHCP networks and routers scheduled to its agents,
and the tunnel endpoints of the other hosts that share a tunnelled network with it (the
l2population view: flood only to hosts that need the traffic). Each part has its module here:
``ports``, ``dhcp``, ``routers``, ``tunnels``, and the ``lookups`` they share.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from neutrino.contract.desired import DesiredHostState, RemoteGroup
from neutrino.domain.projection.dhcp import dhcp_networks
from neutrino.domain.projection.l2pop import remote_ports
from neutrino.domain.projection.ports import address_group_members, bound_ports, group_members
from neutrino.domain.projection.routers import routers_of
from neutrino.domain.projection.trunks import trunks_of
from neutrino.domain.projection.tunnels import tunnel_peers


def project_host(session: Session, host: str) -> DesiredHostState:
    ports = bound_ports(session, host)
    dhcp = dhcp_networks(session, host)
    routers = routers_of(session, host)
    local_networks = {p.network_id for p in ports} | {d.network_id for d in dhcp}
    for r in routers:
        local_networks |= {i.network_id for i in r.interfaces}
        if r.gateway is not None:
            local_networks.add(r.gateway.network_id)
    peers, local_ip = tunnel_peers(session, host, local_networks)
    group_ids = {r.remote_group_id for p in ports for r in p.rules if r.remote_group_id}
    address_group_ids = {r.remote_address_group_id for p in ports for r in p.rules if r.remote_address_group_id}
    remote_groups = remote_sets(session, group_ids, address_group_ids)
    state = DesiredHostState(
        host=host,
        ports=tuple(sorted(ports, key=lambda p: p.port_id)),
        dhcp_networks=tuple(sorted(dhcp, key=lambda d: d.network_id)),
        routers=tuple(sorted(routers, key=lambda r: r.router_id)),
        tunnel_peers=peers,
        local_tunnel_ip=local_ip,
        remote_groups=remote_groups,
        remote_ports=remote_ports(session, peers),
        trunks=trunks_of(session, host),
    )
    return state.with_fingerprint()


def remote_sets(session: Session, group_ids: set[str], address_group_ids: set[str]) -> tuple[RemoteGroup, ...]:
    """The addresses of each security group's members and each address group's CIDRs, by id."""
    members = {**group_members(session, group_ids), **address_group_members(session, address_group_ids)}
    # an address or CIDR is IPv6 when it holds a colon: no parse (two per member were most of
    # the answer's time for a group of 500 members, asked by every host that names it)
    return tuple(
        RemoteGroup(
            gid,
            ipv4=tuple(sorted(a for a in members.get(gid, ()) if ":" not in a)),
            ipv6=tuple(sorted(a for a in members.get(gid, ()) if ":" in a)),
        )
        for gid in sorted(group_ids | address_group_ids)
    )
