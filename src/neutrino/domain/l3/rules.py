"""L3 decisions as data in, data out: extra routes, subnet overlap, floating IP targets.

Why a separate module: these are the rules Neutron's l3_db/extraroute_db apply with the database
at hand; here they take lists and strings, raise the same Neutron errors, and are unit-tested
on their own (tests/unit/test_l3_rules.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from neutrino import errors

Route = dict[str, str]


# --- extra routes -------------------------------------------------------------------------------


def _route_text(routes: Sequence[Route]) -> str:
    return str([{"destination": r["destination"], "nexthop": r["nexthop"]} for r in routes])


def validate_routes(
    router_id: str,
    routes: Sequence[Route],
    *,
    connected_cidrs: Iterable[str],
    router_ips: Iterable[str],
    max_routes: int,
) -> None:
    """Neutron's extraroute checks: at most ``max_routes``; each nexthop inside a subnet the
    router has a port on (interfaces and gateway) and not one of the router's own addresses."""
    if len(routes) > max_routes:
        raise errors.RoutesExhausted(router_id=router_id, quota=max_routes)
    nets = [ipaddress.ip_network(c, strict=False) for c in connected_cidrs]
    own = {ipaddress.ip_address(ip) for ip in router_ips}
    for route in routes:
        hop = ipaddress.ip_address(route["nexthop"])
        if not any(hop.version == n.version and hop in n for n in nets):
            raise errors.InvalidRoutes(
                routes=_route_text(routes), reason="the nexthop is not connected with router"
            )
        if hop in own:
            raise errors.InvalidRoutes(routes=_route_text(routes), reason="the nexthop is used by router")


def canonical_route(route: Route) -> Route:
    """The stored spelling: canonical CIDR and address (so that set operations compare equal)."""
    return {
        "destination": str(ipaddress.ip_network(route["destination"], strict=False)),
        "nexthop": str(ipaddress.ip_address(route["nexthop"])),
    }


def _key(route: Route) -> tuple[str, str]:
    r = canonical_route(route)
    return r["destination"], r["nexthop"]


def merge_routes(old: Sequence[Route], add: Sequence[Route]) -> list[Route]:
    """extraroute-atomic add: the union; exact duplicates collapse, same destination with
    another nexthop is kept (ECMP)."""
    out: dict[tuple[str, str], Route] = {}
    for r in [*old, *add]:
        out.setdefault(_key(r), canonical_route(r))
    return list(out.values())


def subtract_routes(old: Sequence[Route], remove: Sequence[Route]) -> list[Route]:
    """extraroute-atomic remove: removing a route that is not there is not an error."""
    gone = {_key(r) for r in remove}
    return [canonical_route(r) for r in old if _key(r) not in gone]


def diff_routes(old: Sequence[Route], new: Sequence[Route]) -> tuple[list[Route], list[Route]]:
    """(added, removed) between two route lists, compared canonically."""
    old_keys = {_key(r) for r in old}
    new_keys = {_key(r) for r in new}
    added = [canonical_route(r) for r in new if _key(r) not in old_keys]
    removed = [canonical_route(r) for r in old if _key(r) not in new_keys]
    return list({_key(r): r for r in added}.values()), removed


def routes_via_subnet(routes: Iterable[Route], cidr: str) -> bool:
    """Whether a route's nexthop lies in ``cidr`` (then the interface cannot be removed)."""
    net = ipaddress.ip_network(cidr, strict=False)
    for r in routes:
        hop = ipaddress.ip_address(r["nexthop"])
        if hop.version == net.version and hop in net:
            return True
    return False


# --- subnets on a router ----------------------------------------------------------------------


@dataclass(frozen=True)
class SubnetRef:
    id: str
    cidr: str


def check_new_router_subnets(new: Sequence[SubnetRef], held: Sequence[SubnetRef], compare: Sequence[SubnetRef]) -> None:
    """Neutron's ``_check_for_dup_router_subnets``: a subnet the router already has a port on
    (``held``, every router port) is refused, and so is a CIDR overlapping one of ``compare``
    (the interface subnets when adding an interface, the gateway's when adding a gateway)."""
    held_ids = {s.id for s in held}
    for s in new:
        if s.id in held_ids:
            raise errors.BadRequest(resource="router", msg=f"Router already has a port on subnet {s.id}")
    for old in compare:
        old_net = ipaddress.ip_network(old.cidr, strict=False)
        for s in new:
            new_net = ipaddress.ip_network(s.cidr, strict=False)
            if new_net.version == old_net.version and new_net.overlaps(old_net):
                raise errors.BadRequest(
                    resource="router",
                    msg=f"Cidr {s.cidr} of subnet {s.id} overlaps with cidr {old.cidr} of subnet {old.id}",
                )


def external_ips_changed(current: Iterable[tuple[str, str]], requested: Sequence[dict[str, str]]) -> bool:
    """Whether ``external_fixed_ips`` asks for something else than the gateway port holds
    (Neutron's ``_check_for_external_ip_change``): nothing requested is no change."""
    if not requested:
        return False
    current = list(current)
    if {s for s, _ in current} != {r["subnet_id"] for r in requested if r.get("subnet_id")}:
        return True
    wanted = {str(ipaddress.ip_address(r["ip_address"])) for r in requested if r.get("ip_address")}
    return {ip for _, ip in current} != wanted


# --- floating IPs -----------------------------------------------------------------------------


def fip_fixed_address(
    port_id: str, port_ips: Sequence[tuple[str, str]], fixed_ip_address: str | None
) -> tuple[str, str]:
    """The (subnet_id, address) a floating IP maps to on a port: the given IPv4 address, or
    the port's only IPv4 address (Neutron's ``_internal_fip_assoc_data``)."""
    if fixed_ip_address:
        if ipaddress.ip_address(fixed_ip_address).version != 4:
            raise errors.BadRequest(
                resource="floatingip",
                msg=f"Cannot process floating IP association with {fixed_ip_address}, "
                "since that is not an IPv4 address",
            )
        wanted = ipaddress.ip_address(fixed_ip_address)
        for subnet_id, ip in port_ips:
            if ipaddress.ip_address(ip) == wanted:
                return subnet_id, ip
        raise errors.BadRequest(
            resource="floatingip", msg=f"Port {port_id} does not have fixed ip {fixed_ip_address}"
        )
    v4 = [(s, ip) for s, ip in port_ips if ipaddress.ip_address(ip).version == 4]
    if not v4:
        raise errors.BadRequest(
            resource="floatingip",
            msg=f"Cannot add floating IP to port {port_id} that has no fixed IPv4 addresses",
        )
    if len(v4) > 1:
        raise errors.BadRequest(
            resource="floatingip",
            msg=f"Port {port_id} has multiple fixed IPv4 addresses.  Must provide a specific "
            "IPv4 address when assigning a floating IP",
        )
    return v4[0]


def choose_fip_router(candidates: Sequence[tuple[str, str]], subnet_gateway_ip: str | None) -> str | None:
    """Among (router_id, interface_ip) of routers linking the subnet to the external network,
    the one whose interface holds the subnet's gateway address, else the first (by router id,
    so the choice is stable)."""
    ordered = sorted(candidates)
    for router_id, ip in ordered:
        if subnet_gateway_ip is not None and ip == subnet_gateway_ip:
            return router_id
    return ordered[0][0] if ordered else None
