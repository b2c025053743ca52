"""The port behind a metadata request: the one port with this address on these networks.

A metadata agent knows only a request's source address and where it arrived (a router, so the
networks of its interfaces, or one network's DHCP namespace); as Neutron's metadata agent it
asks the server for the ports of those networks holding that fixed IP and answers only when
there is exactly one (docs/neutron-behaviour.md, "Metadata"). Ports the network owns (router
interfaces, DHCP) are no instances: a request from their addresses gets nothing. The answer is
plain JSON (the port, its subnets, its network's MTU and its floating IPs), all the agent needs
to render the OpenStack and EC2 layouts itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino.domain.models import FloatingIP, IPAllocation, Network, Port, PortDNS, Subnet


def metadata_port(session: Session, network_ids: list[str], ip_address: str) -> dict[str, Any] | None:
    """The instance port with ``ip_address`` on one of ``network_ids``, or None (none, or several)."""
    if not network_ids or not ip_address:
        return None
    rows = session.execute(
        select(Port, PortDNS.dns_name)
        .join(IPAllocation, IPAllocation.port_id == Port.id)
        .outerjoin(PortDNS, PortDNS.port_id == Port.id)
        .where(IPAllocation.ip_address == ip_address, IPAllocation.network_id.in_(list(network_ids)))
    ).all()
    found = {port.id: (port, dns_name) for port, dns_name in rows if not port.device_owner.startswith("network:")}
    if len(found) != 1:
        return None
    port, dns_name = next(iter(found.values()))
    subnet_ids = [f.subnet_id for f in port.fixed_ips]
    subnets = {s.id: s for s in session.scalars(select(Subnet).where(Subnet.id.in_(subnet_ids)))}
    mtu = session.scalar(select(Network.mtu).where(Network.id == port.network_id))
    fips = session.scalars(
        select(FloatingIP.floating_ip_address).where(FloatingIP.fixed_port_id == port.id).order_by(FloatingIP.floating_ip_address)
    ).all()
    return {
        "port_id": port.id,
        "device_id": port.device_id,
        "device_owner": port.device_owner,
        "project_id": port.project_id,
        "name": port.name,
        "dns_name": dns_name or "",
        "mac_address": port.mac_address,
        "network_id": port.network_id,
        "mtu": mtu or 0,
        "fixed_ips": [_fixed_ip(f.ip_address, subnets[f.subnet_id]) for f in port.fixed_ips if f.subnet_id in subnets],
        "floating_ips": list(fips),
    }


def _fixed_ip(address: str, subnet: Subnet) -> dict[str, Any]:
    return {
        "ip_address": address,
        "subnet_id": subnet.id,
        "cidr": subnet.cidr,
        "ip_version": subnet.ip_version,
        "gateway_ip": subnet.gateway_ip,
        "enable_dhcp": subnet.enable_dhcp,
        "ipv6_address_mode": subnet.ipv6_address_mode,
        "dns_nameservers": [d.address for d in sorted(subnet.dns_nameservers, key=lambda d: d.position)],
        "host_routes": [[r.destination, r.nexthop] for r in sorted(subnet.host_routes, key=lambda r: r.position)],
    }
