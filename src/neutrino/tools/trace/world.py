"""Everything the trace knows of the intent, and what the user's FROM and TO name.

The intent is the desired state the server projects for every host with an agent (the same
``DesiredHostState`` the agents converge to), plus the names users type (port and instance
names, network and security group names) and each host's bridge mappings. Nothing here reads a
database: the server builds a ``World`` and hands it over, so the whole trace logic is testable
with plain data.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from neutrino.contract.desired import BoundPort, DesiredHostState, FloatingIPState, RouterState

OUTSIDE = "outside"
ROUTER_OWNERS = (
    "network:router_interface", "network:router_gateway", "network:router_interface_distributed",
    "network:ha_router_replicated_interface",
)


class TraceInputError(ValueError):
    """FROM or TO names nothing, several things, or a pair with no possible path: one line for the user."""


@dataclass(frozen=True)
class World:
    states: dict[str, DesiredHostState]
    """host -> the desired state projected for it."""
    port_names: dict[str, str] = field(default_factory=dict)
    network_names: dict[str, str] = field(default_factory=dict)
    group_names: dict[str, str] = field(default_factory=dict)
    router_names: dict[str, str] = field(default_factory=dict)
    bridge_mappings: dict[str, dict[str, str]] = field(default_factory=dict)
    """host -> physnet -> bridge (the L2 agent's configuration)."""
    direct_plug: frozenset[str] = frozenset()
    """Hosts whose OVS agent reports ``ovs_hybrid_plug`` False (noop or openvswitch firewall):
    their instances' taps sit straight on br-int, with no qbr, qvb or qvo."""

    def ports(self) -> dict[str, tuple[str, BoundPort]]:
        """port id -> (host, port), every port bound to a host with an agent."""
        return {p.port_id: (host, p) for host, s in sorted(self.states.items()) for p in s.ports}

    def routers(self) -> dict[str, tuple[str, RouterState]]:
        """router id -> (host it is scheduled to, its state); the first host when several."""
        out: dict[str, tuple[str, RouterState]] = {}
        for host, s in sorted(self.states.items()):
            for r in s.routers:
                out.setdefault(r.router_id, (host, r))
        return out

    def bridge(self, host: str, physnet: str | None) -> str:
        mapped = self.bridge_mappings.get(host, {}).get(physnet or "")
        return mapped or f"br-{physnet}"[:15]

    def hybrid_plug(self, host: str | None) -> bool:
        return host not in self.direct_plug

    def tunnel_ip(self, host: str) -> str | None:
        s = self.states.get(host)
        return s.local_tunnel_ip if s else None

    def port_name(self, port_id: str) -> str:
        return self.port_names.get(port_id) or port_id[:8]

    def network_name(self, network_id: str) -> str:
        return self.network_names.get(network_id) or network_id[:8]


@dataclass(frozen=True)
class Endpoint:
    """One end of the trace: a bound port (with the address used) or the outside."""

    kind: str  # "port" | "outside"
    address: str
    host: str | None = None
    port: BoundPort | None = None
    name: str = ""
    floating_ip: FloatingIPState | None = None
    """Set when the outside addresses the port through this floating IP (DNAT)."""
    router_id: str | None = None
    """For the outside: the router whose gateway network the address is on, when known."""

    @property
    def network_id(self) -> str | None:
        return self.port.network_id if self.port else None

    def label(self) -> str:
        if self.kind == OUTSIDE:
            return f"outside {self.address}"
        return f"{self.name} {self.address}"


def _v4(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _port_endpoint(world: World, host: str, port: BoundPort, address: str | None = None) -> Endpoint:
    ips = [f.ip_address for f in port.fixed_ips if _v4(f.ip_address) and _v4(f.ip_address).version == 4]  # type: ignore[union-attr]
    addr = address or (ips[0] if ips else (port.fixed_ips[0].ip_address if port.fixed_ips else ""))
    if not addr:
        raise TraceInputError(f"port {port.port_id} has no fixed IP to trace from or to")
    return Endpoint("port", addr, host, port, world.port_name(port.port_id))


def _external_subnets(world: World) -> list[tuple[str, str, str | None]]:
    """(router id, external CIDR, that subnet's gateway) of every router gateway."""
    out = []
    for rid, (_host, r) in world.routers().items():
        if r.gateway is not None:
            out += [(rid, f.cidr, f.gateway_ip) for f in r.gateway.fixed_ips]
    return out


def _floating_ips(world: World) -> dict[str, tuple[str, FloatingIPState]]:
    return {f.floating_ip_address: (rid, f) for rid, (_h, r) in world.routers().items() for f in r.floating_ips}


def resolve(world: World, text: str, *, role: str) -> Endpoint:
    """What ``text`` (a port id, a fixed IP, an instance or port name, a floating IP, ``outside``
    or an address on an external network) names; ``role`` is "FROM" or "TO" for the message."""
    text = text.strip()
    ports = world.ports()
    if text == OUTSIDE:
        ext = _external_subnets(world)
        gateways = sorted({(gw, rid) for rid, _c, gw in ext if gw})
        if not gateways:
            raise TraceInputError(f"{role} outside: no router has a gateway on an external network with a gateway IP")
        return Endpoint(OUTSIDE, gateways[0][0], name=OUTSIDE, router_id=gateways[0][1])
    if text in ports:
        host, port = ports[text]
        return _port_endpoint(world, host, port)
    addr = _v4(text)
    if addr is not None:
        return _resolve_address(world, text, addr, role)
    named = [(h, p) for h, p in ports.values() if world.port_names.get(p.port_id) == text]
    if not named:
        prefixed = [(h, p) for pid, (h, p) in ports.items() if len(text) >= 8 and pid.startswith(text)]
        named = prefixed
    if len(named) > 1:
        raise TraceInputError(f"{role} {text!r} names {len(named)} ports: give a port id")
    if not named:
        raise TraceInputError(f"{role} {text!r}: no bound port, instance or address of that name")
    return _port_endpoint(world, *named[0])


def _resolve_address(world: World, text: str, addr: object, role: str) -> Endpoint:
    ports = world.ports()
    owners = {pid: (h, p) for pid, (h, p) in ports.items() if any(f.ip_address == text for f in p.fixed_ips)}
    vm_owners = {pid: hp for pid, hp in owners.items() if hp[1].device_owner not in ROUTER_OWNERS}
    if len(vm_owners) > 1:
        nets = ", ".join(sorted(world.network_name(p.network_id) for _h, p in vm_owners.values()))
        raise TraceInputError(f"{role} {text} is the address of {len(vm_owners)} ports (networks {nets}): give a port id")
    if vm_owners:
        host, port = next(iter(vm_owners.values()))
        return _port_endpoint(world, host, port, text)
    fips = _floating_ips(world)
    if text in fips:
        rid, fip = fips[text]
        if fip.port_id is None or fip.port_id not in ports:
            raise TraceInputError(f"{role} {text} is a floating IP associated with no bound port")
        host, port = ports[fip.port_id]
        return Endpoint("port", fip.fixed_ip_address or "", host, port, world.port_name(port.port_id),
                        floating_ip=fip, router_id=rid)  # fmt: skip
    for rid, cidr, _gw in _external_subnets(world):
        if addr in ipaddress.ip_network(cidr, strict=False):  # type: ignore[operator]
            if owners:
                raise TraceInputError(f"{role} {text} is a router's gateway address, not an endpoint")
            return Endpoint(OUTSIDE, text, name=OUTSIDE, router_id=rid)
    if owners:
        raise TraceInputError(f"{role} {text} is a router interface address: trace to or from an instance or the outside")
    raise TraceInputError(f"{role} {text} is on no network neutrino knows (for the outside world, say 'outside')")
