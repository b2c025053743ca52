"""A router's external gateway (``external_gateway_info``, with ext-gw-mode's ``enable_snat``).

The gateway is a port on an external network (``router:external``), owned by no project
(``''``), device_owner ``network:router_gateway``, device_id the router. Setting the gateway on
another network replaces that port, which floating IPs served through the router forbid (409);
the same network with other ``external_fixed_ips`` only re-addresses it. ``enable_snat`` and
``external_fixed_ips`` are admin-only, as in Neutron's default policy, and ``enable_snat``
falls back to true whenever the gateway is set without it.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.l3 import rules
from neutrino.domain.models import FloatingIP, Network, Port, Router, RouterPort, Subnet
from neutrino.domain.services import l3_ports, networks
from neutrino.domain.config import DomainConfig


def external_network(session: Session, ctx: Context, network_id: str, *, resource: str) -> Network:
    """The network if it is external; a network the caller cannot see is not found."""
    net = session.get(Network, network_id)
    if net is None or not networks.visible_to(session, ctx, net):
        raise errors.NetworkNotFound(net_id=network_id)
    assert net is not None
    if not net.router_external:
        raise errors.BadRequest(resource=resource, msg=f"Network {network_id} is not an external network")
    return net


def _check_not_subnet_gateways(session: Session, network_id: str, ext_ips: list[dict[str, Any]]) -> None:
    wanted = {str(ipaddress.ip_address(f["ip_address"])) for f in ext_ips if f.get("ip_address")}
    if not wanted:
        return
    for (gateway,) in session.execute(select(Subnet.gateway_ip).where(Subnet.network_id == network_id)):
        if gateway is not None and str(ipaddress.ip_address(gateway)) in wanted:
            raise errors.BadRequest(resource="router", msg=f"External IP {gateway} is the same as the gateway IP")


def _remove(session: Session, cfg: DomainConfig, router: Router, port: Port) -> None:
    used = session.scalar(select(FloatingIP.id).where(FloatingIP.router_id == router.id).limit(1))
    if used is not None:
        raise errors.RouterExternalGatewayInUseByFloatingIp(router_id=router.id, net_id=port.network_id)
    router.gw_port_id = None
    session.flush()
    session.execute(sql_delete(RouterPort).where(RouterPort.port_id == port.id))
    l3_ports.delete_port(session, cfg, port.id)


def _add(
    session: Session, cfg: DomainConfig, router: Router, network_id: str, ext_ips: list[dict[str, Any]]
) -> None:
    new = [rules.SubnetRef(sid, cidr) for sid, cidr in session.execute(
        select(Subnet.id, Subnet.cidr).where(Subnet.network_id == network_id)
    )]
    held = l3_ports.router_subnets(session, router.id)
    rules.check_new_router_subnets(
        new, [s for _, s in held], [s for kind, s in held if kind == l3_ports.ROUTER_GATEWAY]
    )
    port = l3_ports.create_port(
        session,
        cfg,
        network_id=network_id,
        project_id="",
        device_owner=l3_ports.ROUTER_GATEWAY,
        device_id=router.id,
        fixed_ips=ext_ips or None,
    )
    router.gw_port_id = port.id
    session.add(RouterPort(router_id=router.id, port_id=port.id, port_type=l3_ports.ROUTER_GATEWAY))
    session.flush()


def apply(
    session: Session, ctx: Context, cfg: DomainConfig, router: Router, info: dict[str, Any] | None, *, action: str
) -> bool:
    """Make the router's gateway what ``info`` says (None or ``{}``: no gateway). Returns
    whether anything visible changed; the caller bumps the router's revision."""
    network_id = info.get("network_id") if info else None
    if info and not ctx.is_admin:
        for key in ("enable_snat", "external_fixed_ips"):
            if key in info:
                raise errors.PolicyNotAuthorized(action=f"rule:{action}:external_gateway_info:{key}")
    ext_ips = list((info or {}).get("external_fixed_ips") or [])
    if network_id:
        external_network(session, ctx, network_id, resource="router")
        _check_not_subnet_gateways(session, network_id, ext_ips)
    current = session.get(Port, router.gw_port_id) if router.gw_port_id else None
    changed = False
    if current is not None and current.network_id == network_id:
        if rules.external_ips_changed(l3_ports.port_ips(session, current.id), ext_ips):
            l3_ports.update_port(session, cfg, current.id, {"fixed_ips": ext_ips})
            changed = True
    else:
        if current is not None:
            _remove(session, cfg, router, current)
            changed = True
        if network_id:
            _add(session, cfg, router, network_id, ext_ips)
            changed = True
    snat = bool((info or {}).get("enable_snat", True)) if network_id else True
    if router.enable_snat != snat:
        router.enable_snat = snat
        changed = changed or bool(network_id)
    return changed
