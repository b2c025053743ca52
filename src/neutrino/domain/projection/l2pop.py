"""The remote ports of a host's tunnelled networks (Neutron's l2population data): for every
network this host shares with a tunnel peer, the ports bound on that peer, with their MAC and
addresses. The Linux bridge agent turns them into static FDB entries on its ``vxlan-<vni>``
devices and into ARP/ND proxy entries, so nothing is learnt by flooding."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.contract.desired import RemotePort, TunnelPeer
from neutrino.domain.models import AllowedAddressPair, IPAllocation, Port, PortBinding
from neutrino.domain.projection.lookups import UNBOUND


def remote_ports(session: Session, peers: tuple[TunnelPeer, ...]) -> tuple[RemotePort, ...]:
    """The ports bound on each peer host in the networks it shares with us, sorted."""
    where: dict[str, dict[str, str]] = defaultdict(dict)  # network -> peer host -> tunnel ip
    for peer in peers:
        for network_id in peer.network_ids:
            where[network_id][peer.host] = peer.ip_address
    if not where:
        return ()
    hosts = {h for by_host in where.values() for h in by_host}
    rows = session.execute(
        select(Port.id, Port.network_id, Port.mac_address, PortBinding.host)
        .join(PortBinding, PortBinding.port_id == Port.id)
        .where(Port.network_id.in_(list(where)), PortBinding.host.in_(hosts), PortBinding.vif_type.notin_(UNBOUND))
    ).all()
    ports = [r for r in rows if r.host in where[r.network_id]]
    if not ports:
        return ()
    ids = [r.id for r in ports]
    addresses: dict[str, list[str]] = defaultdict(list)
    for port_id, ip in session.execute(
        select(IPAllocation.port_id, IPAllocation.ip_address).where(IPAllocation.port_id.in_(ids))
    ):
        addresses[port_id].append(ip)
    for port_id, ip in session.execute(
        select(AllowedAddressPair.port_id, AllowedAddressPair.ip_address).where(AllowedAddressPair.port_id.in_(ids))
    ):
        if "/" not in ip or ip.endswith(("/32", "/128")):  # a prefix cannot be answered for
            addresses[port_id].append(ip.split("/")[0])
    out = [
        RemotePort(r.network_id, r.mac_address.lower(), tuple(sorted(set(addresses[r.id]))), where[r.network_id][r.host])
        for r in ports
    ]
    return tuple(sorted(out, key=lambda p: (p.network_id, p.mac_address)))
