"""Subnet shape rules: default gateway and pools, and every check a subnet body must pass.

Why a module of its own: these rules decide which addresses a subnet may ever hand out, and
Neutron scatters them over ``ipam/utils.py``, ``db_base_plugin_v2`` and ``ipam_backend_mixin``.
Gathered here as pure functions (strings in, strings out or a domain error), the subnet service
can call them in any order it needs and the edge cases (/31, /32, gateway splitting a pool,
IPv6 subnet-router anycast) are tested without a database. Error types and wording follow
Neutron so that clients branching on them behave the same.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

from neutrino import errors

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Pool = tuple[str, str]

#: Owners that may take an IPv6 subnet's network (subnet-router anycast) address.
ROUTER_PORT_OWNERS = frozenset(
    {
        "network:router_interface",
        "network:router_gateway",
        "network:ha_router_replicated_interface",
        "network:router_interface_distributed",
        "network:router_centralized_snat",
    }
)

IPV6_MODES = ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")
_AUTO_MODES = ("slaac", "dhcpv6-stateless")


def _network(cidr: str) -> IPNetwork:
    return ipaddress.ip_network(cidr, strict=False)


def _invalid(msg: str) -> errors.InvalidInput:
    return errors.InvalidInput(error_message=msg)


def _version_mismatch(name: str, addr: object, ip_version: int) -> errors.InvalidInput:
    return _invalid(f"{name} '{addr}' does not match the ip_version '{ip_version}'")


def _usable_range(net: IPNetwork) -> tuple[int, int]:
    """First and last address a pool may cover (the default pool before the gateway is cut).

    IPv4 loses network and broadcast unless the subnet is a /31 or /32 (RFC 3021 point-to-point
    links have neither); IPv6 loses only the subnet-router anycast (network) address.
    """
    first, last = int(net.network_address), int(net.broadcast_address)
    if first == last:
        return first, last
    if net.version == 4:
        return (first + 1, last - 1) if net.prefixlen <= 30 else (first, last)
    return first + 1, last


def default_gateway(cidr: str) -> str:
    """Neutron's default gateway: the first address after the network address."""
    net = _network(cidr)
    return str(net.network_address + 1)


def generate_pools(cidr: str, gateway_ip: str | None) -> list[Pool]:
    """Default allocation pools: the usable range with the gateway cut out (may split it in two)."""
    net = _network(cidr)
    lo, hi = _usable_range(net)
    if lo == hi == int(net.network_address):  # single-address subnet: nothing to cut
        return [(str(net.network_address), str(net.network_address))]
    ranges = [(lo, hi)]
    if gateway_ip:
        gw = ipaddress.ip_address(gateway_ip)
        if gw.version == net.version and lo <= int(gw) <= hi:
            g = int(gw)
            ranges = [r for r in ((lo, g - 1), (g + 1, hi)) if r[0] <= r[1]]
    make = ipaddress.IPv4Address if net.version == 4 else ipaddress.IPv6Address
    return [(str(make(a)), str(make(b))) for a, b in ranges]


def validate_subnet_cidr(cidr: str, ip_version: int, enable_dhcp: bool) -> None:
    """Reject a cidr Neutron would refuse (version mismatch, /0, DHCP-incompatible ranges)."""
    try:
        net = _network(cidr)
    except (ValueError, TypeError):
        raise _invalid(f"'{cidr}' is not a valid IP subnet") from None
    if net.version != ip_version:
        raise _version_mismatch("cidr", cidr, ip_version)
    if net.prefixlen == 0:
        raise _invalid("0 is not allowed as CIDR prefix length")
    if not enable_dhcp:
        return
    if (net.version == 4 and net.prefixlen > 30) or (net.version == 6 and net.prefixlen > 126):
        raise _invalid("Subnet has a prefix length that is incompatible with DHCP service enabled")
    if net.network_address.is_multicast:
        raise _invalid("Multicast IP subnet is not supported if enable_dhcp is True")
    if net.network_address.is_loopback:
        raise _invalid("Loopback IP subnet is not supported if enable_dhcp is True")
    if net.version == 4 and int(net.network_address) == 0:
        raise _invalid("First IP '0.0.0.0' of network is not supported if enable_dhcp is True.")


def validate_gateway(cidr: str, gateway_ip: str) -> None:
    """A gateway inside the cidr may not be the IPv4 network or broadcast address.

    As in Neutron, a gateway outside the cidr is accepted (on-link routes to it are the
    operator's business), and the IPv6 network address is accepted (subnet-router anycast).
    """
    net = _network(cidr)
    try:
        gw = ipaddress.ip_address(gateway_ip)
    except (ValueError, TypeError):
        raise _invalid(f"'{gateway_ip}' is not a valid IP address") from None
    if gw.version != net.version:
        raise _version_mismatch("gateway_ip", gateway_ip, net.version)
    if net.version == 4 and gw in net and gw in (net.network_address, net.broadcast_address):
        raise _invalid("Gateway is not valid on subnet")


def _pool_ends(pool: Any) -> tuple[Any, Any]:
    if isinstance(pool, dict):
        return pool.get("start"), pool.get("end")
    try:
        start, end = pool
    except (TypeError, ValueError):
        raise errors.InvalidAllocationPool(pool=repr(pool)) from None
    return start, end


def validate_pools(cidr: str, pools: Sequence[Any], gateway_ip: str | None) -> None:
    """Check explicit allocation pools: well formed, inside the cidr, disjoint, gateway outside.

    Pools are ``(start, end)`` pairs (``{"start", "end"}`` dicts are accepted too). Bounds are
    the same usable range :func:`generate_pools` starts from, so default pools always pass.
    """
    net = _network(cidr)
    lo_ok, hi_ok = _usable_range(net)
    ranges: list[tuple[int, int, str]] = []
    for pool in pools:
        start_s, end_s = _pool_ends(pool)
        shown = "{'start': %r, 'end': %r}" % (start_s, end_s)
        try:
            start, end = ipaddress.ip_address(start_s), ipaddress.ip_address(end_s)
        except (ValueError, TypeError):
            raise errors.InvalidAllocationPool(pool=shown) from None
        if start.version != end.version or start > end:
            raise errors.InvalidAllocationPool(pool=shown)
        label = f"{start}-{end}"
        if start.version != net.version:
            raise errors.InvalidAllocationPool(pool=label)
        if int(start) < lo_ok or int(end) > hi_ok:
            raise errors.OutOfBoundsAllocationPool(pool=label, subnet_cidr=cidr)
        ranges.append((int(start), int(end), label))
    # Sorted by start, any overlap shows up between neighbours: O(n log n) instead of pairs.
    order = sorted(range(len(ranges)), key=lambda i: ranges[i][0])
    for a, b in zip(order, order[1:]):
        if ranges[b][0] <= ranges[a][1]:
            i, j = sorted((a, b))
            raise errors.OverlappingAllocationPools(
                pool_1=ranges[i][2], pool_2=ranges[j][2], subnet_cidr=cidr
            )
    if not gateway_ip:
        return
    try:
        gw = ipaddress.ip_address(gateway_ip)
    except (ValueError, TypeError):
        return  # validate_gateway reports a malformed gateway
    if gw.version != net.version:
        return
    for lo, hi, label in ranges:
        if lo <= int(gw) <= hi:
            raise errors.GatewayConflictWithAllocationPools(pool=label, ip_address=gateway_ip)


def overlapping_cidr(cidr: str, others: Iterable[str]) -> str | None:
    """The first of ``others`` sharing any address with ``cidr`` (other versions never do)."""
    net = _network(cidr)
    for other in others:
        try:
            o = _network(other)
        except (ValueError, TypeError):
            continue
        if o.version == net.version and net.overlaps(o):
            return other
    return None


def validate_ipv6_modes(
    ra_mode: str | None,
    address_mode: str | None,
    enable_dhcp: bool,
    cidr: str,
    ip_version: int | None = None,
) -> None:
    """Neutron's IPv6 mode rules for a new subnet (modes are create-only)."""
    version = ip_version if ip_version is not None else _network(cidr).version
    if version == 4:
        if ra_mode is not None:
            raise _invalid("ipv6_ra_mode is not valid when ip_version is 4")
        if address_mode is not None:
            raise _invalid("ipv6_address_mode is not valid when ip_version is 4")
        return
    if ra_mode is None and address_mode is None:
        return
    if not enable_dhcp:
        raise _invalid("ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False")
    if ra_mode is not None and address_mode is not None and ra_mode != address_mode:
        raise _invalid(
            f"ipv6_ra_mode set to '{ra_mode}' with ipv6_address_mode set to '{address_mode}' "
            "is not valid. If both attributes are set, they must be the same value"
        )
    if (address_mode or ra_mode) in _AUTO_MODES and _network(cidr).prefixlen != 64:
        raise _invalid(
            f"Invalid CIDR {cidr} for IPv6 address mode. OpenStack uses the EUI-64 address "
            "format, which requires the prefix to be /64"
        )


def validate_host_routes(
    cidr: str,
    ip_version: int | None,
    routes: Sequence[Any],
    max_routes: int = 20,
    subnet_id: str | None = None,
) -> None:
    """Count limit (HostRoutesExhausted), parseable entries, destination/nexthop version."""
    version = ip_version if ip_version is not None else _network(cidr).version
    if len(routes) > max_routes:
        raise errors.HostRoutesExhausted(subnet_id=subnet_id or "new subnet", quota=max_routes)
    for route in routes:
        try:
            dest = _network(route["destination"])
            nexthop = ipaddress.ip_address(route["nexthop"])
        except (ValueError, TypeError, KeyError):
            raise _invalid(f"Invalid route: {route}") from None
        if nexthop.version != version:
            raise _version_mismatch("nexthop", route["nexthop"], version)
        if dest.version != version:
            raise _version_mismatch("destination", route["destination"], version)


def validate_dns_nameservers(
    servers: Sequence[Any],
    max_servers: int = 5,
    *,
    ip_version: int | None = None,
    subnet_id: str | None = None,
) -> None:
    """Count limit (DNSNameServersExhausted), parseable, no duplicates, matching version."""
    if len(servers) > max_servers:
        raise errors.DNSNameServersExhausted(subnet_id=subnet_id or "new subnet", quota=max_servers)
    seen: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = set()
    for server in servers:
        try:
            addr = ipaddress.ip_address(server)
        except (ValueError, TypeError):
            raise _invalid(f"Error parsing dns address {server}") from None
        if addr in seen:
            raise _invalid(f"Duplicate nameserver '{server}'")
        seen.add(addr)
        if ip_version is not None and addr.version != ip_version:
            raise _version_mismatch("dns_nameserver", server, ip_version)


def ip_usable_in_subnet(ip: str, cidr: str, device_owner: str = "") -> bool:
    """May a port ask for ``ip`` explicitly on this subnet (Neutron's ``check_subnet_ip``)?

    Inside the cidr; IPv4 network/broadcast excluded except on /31 and /32; the IPv6 network
    address only for router-type owners or an unknown (empty) owner.
    """
    try:
        addr = ipaddress.ip_address(ip)
        net = _network(cidr)
    except (ValueError, TypeError):
        return False
    if addr.version != net.version or addr not in net:
        return False
    if net.version == 4:
        if net.prefixlen >= 31:
            return True
        return addr not in (net.network_address, net.broadcast_address)
    if addr == net.network_address:
        return device_owner in ROUTER_PORT_OWNERS or device_owner == ""
    return True
