"""What each host's agent is asked to run for one trace, as data (read-only commands only).

For every layer-2 leg of the path: an ``ofproto/trace`` on the host the packet enters br-int by
(from the VM's qvo or the router's tap, untagged), and, when the leg crosses to another host, one
on the host it arrives at: from the physnet bridge's NIC with the segment's VID (``@uplink``:
the agent names the NIC from ``dpif/show``), or from the tunnel port with the VNI and the outer
addresses. For every router hop: ``ip route get`` in the router's namespace and the NAT table.
The agent checks every field against a strict pattern before it runs anything
(``agent/trace.py``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from neutrino.dataplane.naming import tunnel_port
from neutrino.tools.trace.intent import Leg, Plan, RouterHop
from neutrino.tools.trace.world import World

UPLINK = "@uplink"
TUNNELS = ("vxlan", "geneve", "gre")


@dataclass(frozen=True)
class Probe:
    id: str
    host: str
    kind: str  # "ofproto" | "route" | "nat"
    bridge: str = ""
    in_port: str = ""
    flow: str = ""
    namespace: str = ""
    src: str = ""
    dst: str = ""
    iif: str = ""

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v != ""}


def packet_fields(plan: Plan, leg: Leg) -> str:
    """``tcp,dl_src=..,dl_dst=..,nw_src=..,nw_dst=..,tp_dst=22`` for ``ofproto/trace``."""
    p = plan.packet
    head = f"{p.protocol},dl_src={leg.src_mac},dl_dst={leg.dst_mac},nw_src={leg.src_ip},nw_dst={leg.dst_ip}"
    if p.protocol == "icmp":
        return head + ",icmp_type=8,icmp_code=0"
    # tcp_dst/udp_dst: ofproto/trace refuses udp with tp_dst ("prerequisites not met")
    return head + (f",{p.protocol}_dst={p.dst_port}" if p.dst_port is not None else "")


def probes(world: World, plan: Plan) -> list[Probe]:
    out: list[Probe] = []
    for i, step in enumerate(plan.steps):
        if isinstance(step, RouterHop):
            out.append(Probe(f"{i}.route", step.host, "route", namespace=step.namespace, src=step.src_ip,
                             dst=step.out_dst_ip, iif=step.in_device))  # fmt: skip
            out.append(Probe(f"{i}.nat", step.host, "nat", namespace=step.namespace))
            continue
        fields = packet_fields(plan, step)
        if step.from_host is not None and step.from_device is not None:
            out.append(Probe(f"{i}.out", step.from_host, "ofproto", bridge="br-int", in_port=step.from_device,
                             flow=fields))  # fmt: skip
        if step.to_host is None or step.to_host == step.from_host or step.segment is None:
            continue
        seg = step.segment
        if seg.network_type in TUNNELS:
            if not (step.tunnel_src and step.tunnel_dst):
                continue
            tunnel = f"tun_id={seg.segmentation_id},tun_src={step.tunnel_src},tun_dst={step.tunnel_dst}"
            out.append(Probe(f"{i}.in", step.to_host, "ofproto", bridge="br-tun",
                             in_port=tunnel_port(seg.network_type, step.tunnel_src), flow=f"{tunnel},{fields}"))  # fmt: skip
        else:
            vlan = f"dl_vlan={seg.segmentation_id}," if seg.network_type == "vlan" else ""
            out.append(Probe(f"{i}.in", step.to_host, "ofproto", bridge=world.bridge(step.to_host, seg.physical_network),
                             in_port=UPLINK, flow=vlan + fields))  # fmt: skip
    return out


def by_host(found: list[Probe]) -> dict[str, list[dict[str, Any]]]:
    hosts: dict[str, list[dict[str, Any]]] = {}
    for p in found:
        hosts.setdefault(p.host, []).append(p.to_json())
    return hosts
