"""add_router_interface / remove_router_interface, by subnet or by port.

By subnet, the router gets a new port holding the subnet's gateway address (owner
``network:router_interface``, project of the router); a second IPv6 subnet of a network joins
the router's existing IPv6 port there instead. By port, an unused port with addresses becomes
the interface. Removing refuses while a floating IP or an extra route needs the subnet, and
removes the port (or only the subnet's address from a multi-prefix IPv6 port). All of it runs
in the caller's transaction: a refusal anywhere leaves no port behind.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.domain.context import Context
from neutrino.domain.l3 import rules
from neutrino.domain.models import FloatingIP, Port, Router, RouterPort, Subnet
from neutrino.domain.services import l3_ports, ports, routers, subnets
from neutrino.domain.config import DomainConfig


def _bad(msg: str) -> errors.BadRequest:
    return errors.BadRequest(resource="router", msg=msg)


def check_choice(port_id: str | None, subnet_id: str | None, *, removal: bool) -> None:
    """One of ``port_id`` / ``subnet_id`` (both only when removing), with Neutron's messages."""
    if port_id is None and subnet_id is None:
        raise _bad("Either subnet_id or port_id must be specified")
    if not removal and port_id is not None and subnet_id is not None:
        raise _bad("Cannot specify both subnet-id and port-id")


def _info(router: Router, port: Port, subnet_ids: list[str], *, last: bool) -> dict[str, Any]:
    """Neutron's ``_make_router_interface_info``: the action's response body."""
    return {
        "id": router.id,
        "tenant_id": port.project_id,
        "project_id": port.project_id,
        "port_id": port.id,
        "network_id": port.network_id,
        "subnet_id": subnet_ids[-1] if last else subnet_ids[0],
        "subnet_ids": subnet_ids,
    }


def _interface_ports(session: Session, router_id: str) -> list[Port]:
    return list(
        session.scalars(
            select(Port)
            .join(RouterPort, RouterPort.port_id == Port.id)
            .where(RouterPort.router_id == router_id, RouterPort.port_type.in_(l3_ports.INTERFACE_OWNERS))
            .order_by(Port.created_at, Port.id)
        )
    )


def _has_v6(port: Port) -> bool:
    return any(ipaddress.ip_address(a.ip_address).version == 6 for a in port.fixed_ips)


def _check_new_subnets(session: Session, router: Router, new: list[Subnet]) -> None:
    held = l3_ports.router_subnets(session, router.id)
    rules.check_new_router_subnets(
        [rules.SubnetRef(s.id, s.cidr) for s in new],
        [s for _, s in held],
        [s for kind, s in held if kind != l3_ports.ROUTER_GATEWAY],
    )


def _add_by_subnet(
    session: Session, ctx: Context, cfg: DomainConfig, router: Router, subnet_id: str
) -> tuple[Port, list[str], bool]:
    sub = subnets.get(session, ctx, subnet_id)
    if not sub.gateway_ip:
        raise _bad("Subnet for router interface must have a gateway IP")
    if sub.project_id != ctx.project_id and not ctx.is_admin:
        # a subnet the project only sees (shared or external network) is not its to route
        raise _bad(
            f"Cannot add interface to router because subnet {sub.id} is not owned by project making the request"
        )
    if sub.ip_version == 6 and sub.ipv6_ra_mode is None and sub.ipv6_address_mode is not None:
        raise _bad(
            f"IPv6 subnet {sub.id} configured to receive RAs from an external router cannot be "
            "added to Neutron Router."
        )
    _check_new_subnets(session, router, [sub])
    wanted = {"subnet_id": sub.id, "ip_address": sub.gateway_ip}
    if sub.ip_version == 6:
        for port in _interface_ports(session, router.id):
            if port.network_id == sub.network_id and _has_v6(port):
                held = [{"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in port.fixed_ips]
                l3_ports.update_port(session, cfg, port.id, {"fixed_ips": [*held, wanted]})
                return port, [sub.id], False
    port = l3_ports.create_port(
        session,
        cfg,
        network_id=sub.network_id,
        project_id=router.project_id,
        device_owner=l3_ports.interface_owner(session, router.id),
        device_id=router.id,
        fixed_ips=[wanted],
    )
    return port, [sub.id], True


def _add_by_port(
    session: Session, ctx: Context, cfg: DomainConfig, router: Router, port_id: str
) -> tuple[Port, list[str]]:
    port = ports.get(session, ctx, port_id)
    if port.device_id:
        raise errors.PortInUse(port_id=port.id, net_id=port.network_id, device_id=port.device_id)
    if not port.fixed_ips:
        raise _bad("Router port must have at least one fixed IP")
    if _has_v6(port):
        for other in _interface_ports(session, router.id):
            if other.network_id == port.network_id and _has_v6(other):
                raise _bad(
                    "Cannot have multiple router ports with the same network id if both contain "
                    f"IPv6 subnets. Existing port {other.id} has IPv6 subnet(s) and network id "
                    f"{other.network_id}"
                )
    subnet_ids = list(dict.fromkeys(a.subnet_id for a in port.fixed_ips))
    subs = list(session.scalars(select(Subnet).where(Subnet.id.in_(subnet_ids))))
    _check_new_subnets(session, router, subs)
    if sum(1 for s in subs if s.ip_version == 4) > 1:
        raise _bad("Cannot have multiple IPv4 subnets on router port")
    l3_ports.update_port(
        session, cfg, port.id, {"device_id": router.id, "device_owner": l3_ports.interface_owner(session, router.id)}
    )
    return port, subnet_ids


def add(
    session: Session, ctx: Context, cfg: DomainConfig, router_id: str,
    *, port_id: str | None = None, subnet_id: str | None = None,
) -> dict[str, Any]:
    router = routers.get_for_write(session, ctx, router_id, "add_router_interface")
    check_choice(port_id, subnet_id, removal=False)
    if port_id is not None:
        port, subnet_ids = _add_by_port(session, ctx, cfg, router, port_id)
        new = True
    else:
        assert subnet_id is not None
        port, subnet_ids, new = _add_by_subnet(session, ctx, cfg, router, subnet_id)
    if new:
        session.add(RouterPort(router_id=router.id, port_id=port.id, port_type=port.device_owner))
    router.bump_revision()
    session.flush()
    return _info(router, port, subnet_ids, last=True)


# --- removal ----------------------------------------------------------------------------------


def _confirm_not_in_use(session: Session, router: Router, sub: Subnet) -> None:
    net = ipaddress.ip_network(sub.cidr)
    for (fixed,) in session.execute(
        select(FloatingIP.fixed_ip_address).where(FloatingIP.router_id == router.id)
    ):
        if fixed and ipaddress.ip_address(fixed) in net:
            raise errors.RouterInterfaceInUseByFloatingIP(router_id=router.id, subnet_id=sub.id)
    if rules.routes_via_subnet(routers.current_routes(session, router.id), sub.cidr):
        raise errors.RouterInterfaceInUseByRoute(router_id=router.id, subnet_id=sub.id)


def _remove_by_port(
    session: Session, cfg: DomainConfig, router: Router, port_id: str, subnet_id: str | None
) -> dict[str, Any]:
    link = session.get(RouterPort, (router.id, port_id))
    port = session.get(Port, port_id)
    if link is None or link.port_type not in l3_ports.INTERFACE_OWNERS or port is None:
        raise errors.RouterInterfaceNotFound(router_id=router.id, port_id=port_id)
    subnet_ids = list(dict.fromkeys(a.subnet_id for a in port.fixed_ips))
    if subnet_id is not None and subnet_id not in subnet_ids:
        raise errors.SubnetMismatchForPort(port_id=port_id, subnet_id=subnet_id)
    for sub in session.scalars(select(Subnet).where(Subnet.id.in_(subnet_ids))):
        _confirm_not_in_use(session, router, sub)
    info = _info(router, port, subnet_ids, last=False)
    l3_ports.delete_port(session, cfg, port_id)
    return info


def _remove_by_subnet(
    session: Session, ctx: Context, cfg: DomainConfig, router: Router, subnet_id: str
) -> dict[str, Any]:
    sub = subnets.get(session, ctx, subnet_id)
    _confirm_not_in_use(session, router, sub)
    for port in _interface_ports(session, router.id):
        held = [a for a in port.fixed_ips if a.subnet_id == sub.id]
        if not held:
            continue
        rest = [{"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in port.fixed_ips if a.subnet_id != sub.id]
        info = _info(router, port, [sub.id], last=False)
        if rest:
            l3_ports.update_port(session, cfg, port.id, {"fixed_ips": rest})
        else:
            l3_ports.delete_port(session, cfg, port.id)
        return info
    raise errors.RouterInterfaceNotFoundForSubnet(router_id=router.id, subnet_id=sub.id)


def remove(
    session: Session, ctx: Context, cfg: DomainConfig, router_id: str,
    *, port_id: str | None = None, subnet_id: str | None = None,
) -> dict[str, Any]:
    router = routers.get_for_write(session, ctx, router_id, "remove_router_interface")
    check_choice(port_id, subnet_id, removal=True)
    if port_id is not None:
        info = _remove_by_port(session, cfg, router, port_id, subnet_id)
    else:
        assert subnet_id is not None
        info = _remove_by_subnet(session, ctx, cfg, router, subnet_id)
    router.bump_revision()
    session.flush()
    return info
