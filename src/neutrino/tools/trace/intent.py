"""The logical path of one packet, from the API's intent alone: which networks it crosses at
layer 2 (``Leg``), which router forwards it and what NAT rewrites (``RouterHop``), and the
checks on the way (admin state, anti-spoofing, security groups), ending in a verdict.

Four shapes, as in Neutron with a legacy (centralised) router: the same network; routed
between two networks through a router's ``qr-`` ports; from a port to the outside through the
router's ``qg-`` port with SNAT (to the port's floating IP when it has one, else to the
gateway's address); and from the outside to a floating IP, DNAT to the port's fixed IP
(docs/neutron-behaviour.md, "Trace").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from neutrino.contract.desired import BoundPort, RouterState, Segment
from neutrino.tools.trace import secgroups
from neutrino.tools.trace.secgroups import Packet
from neutrino.tools.trace.world import OUTSIDE, ROUTER_OWNERS, Endpoint, TraceInputError, World

OUTSIDE_MAC = "02:00:00:00:00:01"
"""The outside's MAC is not in the API: the trace uses this locally administered one."""


@dataclass(frozen=True)
class Leg:
    """The packet crossing one network at layer 2: in on ``from_device`` (``None``: from the
    outside's wire) of ``from_host``, out on ``to_device`` of ``to_host`` (``None``: to the wire)."""

    network_id: str
    network: str
    segment: Segment | None
    from_host: str | None
    from_device: str | None
    to_host: str | None
    to_device: str | None
    src_mac: str
    dst_mac: str
    src_ip: str
    dst_ip: str
    tunnel_src: str | None = None
    tunnel_dst: str | None = None

    kind = "leg"


@dataclass(frozen=True)
class RouterHop:
    router_id: str
    router: str
    host: str
    namespace: str
    """``qrouter-<id>`` without the host's prefix (the agent adds it)."""
    in_device: str
    out_device: str
    src_ip: str
    dst_ip: str
    nat: str | None
    """``SNAT 10.0.1.5 -> 198.51.100.12`` or ``DNAT 198.51.100.20 -> 10.0.1.5``."""
    out_src_ip: str
    out_dst_ip: str

    kind = "router"


@dataclass(frozen=True)
class Check:
    where: str
    what: str
    ok: bool
    why: str


@dataclass
class Plan:
    source: Endpoint
    destination: Endpoint
    packet: Packet
    steps: list[Leg | RouterHop] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return "delivered" if all(c.ok for c in self.checks) else "dropped"

    @property
    def drop(self) -> Check | None:
        return next((c for c in self.checks if not c.ok), None)


def _dev(prefix: str, port_id: str) -> str:
    return prefix + port_id[:11]


def vif_device(port: BoundPort, hybrid: bool = True) -> str:
    """The port's device on br-int: qvo (a hybrid-plugged VIF), or tap (a VIF plugged straight
    on br-int, ``hybrid`` False, or the host side of the veth of a router's qr-/qg- or a DHCP
    port's ns- device)."""
    if not hybrid or port.device_owner in ROUTER_OWNERS or port.device_owner == "network:dhcp":
        return _dev("tap", port.port_id)
    return _dev("qvo", port.port_id)


def _leg(world: World, network_id: str, segment: Segment | None, a: tuple[str | None, str | None],
         b: tuple[str | None, str | None], macs: tuple[str, str], ips: tuple[str, str]) -> Leg:  # fmt: skip
    tunnelled = segment is not None and segment.network_type in ("vxlan", "geneve", "gre")
    crosses = a[0] is not None and b[0] is not None and a[0] != b[0]
    return Leg(
        network_id, world.network_name(network_id), segment, a[0], a[1], b[0], b[1], macs[0], macs[1], ips[0], ips[1],
        tunnel_src=world.tunnel_ip(a[0]) if tunnelled and crosses and a[0] else None,
        tunnel_dst=world.tunnel_ip(b[0]) if tunnelled and crosses and b[0] else None,
    )  # fmt: skip


def _router_for(world: World, net_a: str, net_b: str | None, gateway_ip: str | None) -> tuple[str, RouterState] | None:
    """The router joining ``net_a`` to ``net_b`` (None: to its gateway), preferring the one that
    owns ``gateway_ip`` (the source subnet's gateway, where the instance sends)."""
    found = []
    for _rid, (host, r) in sorted(world.routers().items()):
        nets = {i.network_id for i in r.interfaces}
        if net_a in nets and (r.gateway is not None if net_b is None else net_b in nets):
            owns = any(f.ip_address == gateway_ip for i in r.interfaces for f in i.fixed_ips)
            found.append((not owns, host, r))
    found.sort(key=lambda t: (t[0], t[2].router_id))
    return (found[0][1], found[0][2]) if found else None


def _interface(router: RouterState, network_id: str) -> tuple[str, str, str]:
    """(port id, MAC, first IP) of the router's interface on ``network_id``: its device is
    ``tap<11>`` on br-int and ``qr-<11>`` in the router's namespace."""
    i = next(i for i in router.interfaces if i.network_id == network_id)
    return i.port_id, i.mac_address, i.fixed_ips[0].ip_address if i.fixed_ips else ""


def _gateway_ip(port: BoundPort, address: str) -> str | None:
    return next((f.gateway_ip for f in port.fixed_ips if f.ip_address == address), None)


def plan(world: World, src: Endpoint, dst: Endpoint, protocol: str = "icmp", dst_port: int | None = None,
         source_ip: str | None = None) -> Plan:  # fmt: skip
    """The logical path from ``src`` to ``dst`` and its checks; raises ``TraceInputError`` when
    there is no possible path."""
    if src.kind == OUTSIDE and dst.kind == OUTSIDE:
        raise TraceInputError("FROM and TO are both the outside: nothing of neutrino is on that path")
    if src.port is not None and dst.port is not None and src.port.port_id == dst.port.port_id:
        raise TraceInputError("FROM and TO are the same port")
    if dst.floating_ip is not None and src.kind != OUTSIDE:
        raise TraceInputError("tracing to a floating IP from inside the cloud is not supported: trace to the fixed IP")
    if protocol != "icmp" and dst_port is None:
        dst_port = 22 if protocol == "tcp" else 53
    first_dst = dst.floating_ip.floating_ip_address if dst.floating_ip else dst.address
    src_mac = src.port.mac_address if src.port else OUTSIDE_MAC
    packet = Packet(protocol, source_ip or src.address, first_dst, None if protocol == "icmp" else dst_port, src_mac)
    out = Plan(src, dst, packet)
    if src.kind == OUTSIDE:
        _from_outside(world, out)
    elif dst.kind == OUTSIDE:
        _to_outside(world, out)
    elif src.network_id == dst.network_id:
        assert src.port and dst.port
        out.steps.append(_leg(world, src.port.network_id, src.port.segment, (src.host, vif_device(src.port, world.hybrid_plug(src.host))),
                              (dst.host, vif_device(dst.port, world.hybrid_plug(dst.host))), (src.port.mac_address, dst.port.mac_address),
                              (packet.src_ip, packet.dst_ip)))  # fmt: skip
    else:
        _routed(world, out)
    _checks(world, out)
    return out


def _routed(world: World, out: Plan) -> None:
    src, dst, packet = out.source, out.destination, out.packet
    assert src.port and dst.port
    found = _router_for(world, src.port.network_id, dst.port.network_id, _gateway_ip(src.port, src.address))
    if found is None:
        raise TraceInputError(
            f"no possible path: no router joins {world.network_name(src.port.network_id)} "
            f"and {world.network_name(dst.port.network_id)}")  # fmt: skip
    host, r = found
    in_dev, in_mac, _ = _interface(r, src.port.network_id)
    out_dev, out_mac, _ = _interface(r, dst.port.network_id)
    seg_in = next(i.segment for i in r.interfaces if i.network_id == src.port.network_id)
    seg_out = next(i.segment for i in r.interfaces if i.network_id == dst.port.network_id)
    out.steps += [
        _leg(world, src.port.network_id, src.port.segment or seg_in, (src.host, vif_device(src.port, world.hybrid_plug(src.host))), (host, _dev("tap", in_dev)),
             (src.port.mac_address, in_mac), (packet.src_ip, packet.dst_ip)),
        RouterHop(r.router_id, world.router_names.get(r.router_id, r.router_id[:8]), host, f"qrouter-{r.router_id}",
                  _dev("qr-", in_dev), _dev("qr-", out_dev), packet.src_ip, packet.dst_ip, None, packet.src_ip,
                  packet.dst_ip),
        _leg(world, dst.port.network_id, dst.port.segment or seg_out, (host, _dev("tap", out_dev)), (dst.host, vif_device(dst.port, world.hybrid_plug(dst.host))),
             (out_mac, dst.port.mac_address), (packet.src_ip, packet.dst_ip)),
    ]  # fmt: skip


def _to_outside(world: World, out: Plan) -> None:
    src, dst, packet = out.source, out.destination, out.packet
    assert src.port
    found = _router_for(world, src.port.network_id, None, _gateway_ip(src.port, src.address))
    if found is None:
        raise TraceInputError(f"no possible path: no router with a gateway has an interface on "
                              f"{world.network_name(src.port.network_id)}")  # fmt: skip
    host, r = found
    assert r.gateway is not None
    in_dev, in_mac, _ = _interface(r, src.port.network_id)
    gw_dev = _dev("tap", r.gateway.port_id)
    gw_ip = r.gateway.fixed_ips[0].ip_address
    fip = next((f for f in r.floating_ips if f.port_id == src.port.port_id and f.fixed_ip_address == packet.src_ip), None)
    if fip is not None:
        new_src, nat = fip.floating_ip_address, f"SNAT {packet.src_ip} -> {fip.floating_ip_address} (floating IP)"
    elif r.gateway.enable_snat:
        new_src, nat = gw_ip, f"SNAT {packet.src_ip} -> {gw_ip} (the router's gateway address)"
    else:
        new_src, nat = packet.src_ip, None
        out.notes.append("SNAT is disabled on the router: the packet leaves with its private source address")
    seg_in = next(i.segment for i in r.interfaces if i.network_id == src.port.network_id)
    out.steps += [
        _leg(world, src.port.network_id, src.port.segment or seg_in, (src.host, vif_device(src.port, world.hybrid_plug(src.host))), (host, _dev("tap", in_dev)),
             (src.port.mac_address, in_mac), (packet.src_ip, packet.dst_ip)),
        RouterHop(r.router_id, world.router_names.get(r.router_id, r.router_id[:8]), host, f"qrouter-{r.router_id}",
                  _dev("qr-", in_dev), _dev("qg-", r.gateway.port_id), packet.src_ip, packet.dst_ip, nat, new_src,
                  packet.dst_ip),
        _leg(world, r.gateway.network_id, r.gateway.segment, (host, gw_dev), (None, None),
             (r.gateway.mac_address, OUTSIDE_MAC), (new_src, dst.address)),
    ]  # fmt: skip


def _from_outside(world: World, out: Plan) -> None:
    src, dst, packet = out.source, out.destination, out.packet
    assert dst.port
    fip = dst.floating_ip
    routers = world.routers()
    if fip is None:  # TO named the port: the outside reaches it only through a floating IP
        hits = [(rid, f) for rid, (_h, r) in sorted(routers.items()) for f in r.floating_ips
                if f.port_id == dst.port.port_id and f.fixed_ip_address == dst.address]  # fmt: skip
        if not hits:
            raise TraceInputError(f"no possible path: the outside reaches a port only through a floating IP, "
                                  f"and {dst.name} ({dst.address}) has none")  # fmt: skip
        rid, fip = hits[0]
        out.packet = packet = Packet(packet.protocol, packet.src_ip, fip.floating_ip_address, packet.dst_port, packet.src_mac)
    else:
        rid = dst.router_id or ""
    host, r = routers[rid]
    if r.gateway is None:
        raise TraceInputError(f"no possible path: router {rid} of floating IP {fip.floating_ip_address} has no gateway")
    if not any(i.network_id == dst.port.network_id for i in r.interfaces):
        raise TraceInputError(f"no possible path: router {rid} has no interface on {world.network_name(dst.port.network_id)}")
    gw_dev = _dev("tap", r.gateway.port_id)
    out_dev, out_mac, _ = _interface(r, dst.port.network_id)
    fixed = fip.fixed_ip_address or dst.address
    seg_out = next(i.segment for i in r.interfaces if i.network_id == dst.port.network_id)
    out.steps += [
        _leg(world, r.gateway.network_id, r.gateway.segment, (None, None), (host, gw_dev),
             (OUTSIDE_MAC, r.gateway.mac_address), (packet.src_ip, packet.dst_ip)),
        RouterHop(r.router_id, world.router_names.get(r.router_id, r.router_id[:8]), host, f"qrouter-{r.router_id}",
                  _dev("qg-", r.gateway.port_id), _dev("qr-", out_dev), packet.src_ip, packet.dst_ip, f"DNAT {packet.dst_ip} -> {fixed} (floating IP)",
                  packet.src_ip, fixed),
        _leg(world, dst.port.network_id, dst.port.segment or seg_out, (host, _dev("tap", out_dev)), (dst.host, vif_device(dst.port, world.hybrid_plug(dst.host))),
             (out_mac, dst.port.mac_address), (packet.src_ip, fixed)),
    ]  # fmt: skip


def _groups(world: World, host: str | None) -> tuple:  # type: ignore[type-arg]
    return world.states[host].remote_groups if host in world.states else ()


def _checks(world: World, out: Plan) -> None:
    src, dst, packet = out.source, out.destination, out.packet
    checks = out.checks
    if src.port is not None:
        where = f"{src.name} on {src.host}"
        if not src.port.admin_state_up:
            checks.append(Check(where, "admin state", False, "the port is administratively down: br-int drops "
                                "its traffic (dead VLAN 4095)"))  # fmt: skip
        why = secgroups.spoofed(src.port, packet)
        checks.append(Check(where, "anti-spoofing", why is None, why or f"{packet.src_ip} is the port's own address"))
        if src.port.device_owner not in ROUTER_OWNERS:
            d = secgroups.decide(src.port, "egress", packet, _groups(world, src.host), world.group_names)
            checks.append(Check(where, "security group egress", d.allowed, d.rule))
    for step in out.steps:
        if isinstance(step, RouterHop):
            r = world.routers()[step.router_id][1]
            if not r.admin_state_up:
                checks.append(Check(f"router {step.router} on {step.host}", "admin state", False,
                                    "the router is administratively down"))  # fmt: skip
    if dst.port is not None:
        where = f"{dst.name} on {dst.host}"
        if not dst.port.admin_state_up:
            checks.append(Check(where, "admin state", False, "the port is administratively down: br-int drops "
                                "its traffic (dead VLAN 4095)"))  # fmt: skip
        last = out.steps[-1]
        seen = Packet(packet.protocol, last.src_ip, last.dst_ip, packet.dst_port)  # type: ignore[union-attr]
        if dst.port.device_owner not in ROUTER_OWNERS:
            d = secgroups.decide(dst.port, "ingress", seen, _groups(world, dst.host), world.group_names)
            checks.append(Check(where, "security group ingress", d.allowed, d.rule))
