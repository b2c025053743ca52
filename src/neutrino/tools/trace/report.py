"""The answer of a trace: the intent's path with what each host's dataplane really does at each
point, the checks, where the two disagree, and one verdict.

``live`` is what the agents answered, per host: ``{"dpif": <dpif/show>, "results": {probe id:
{"ok": bool, "output": str}}}``, or ``{"error": why}`` for a host whose agent did not answer. A
host without an answer leaves its hops with the intent only, said so in ``unverified``.

Security groups are enforced in the qbr bridge (nftables), not in OVS, so a packet the intent
drops there still goes through OVS in ``ofproto/trace``: that is not a disagreement. (With the
``openvswitch`` firewall driver they are br-int flows, which ``ofproto/trace`` follows.) What is:
the dataplane dropping a packet the intent delivers, a VID or VNI other than the segment's, a
tunnel to another host than the destination's, a route out of another device than the router's
port, a NAT rule missing.
"""

from __future__ import annotations

import re
from typing import Any

from neutrino.tools.trace import ofproto
from neutrino.tools.trace.intent import Leg, Plan, RouterHop, vif_device
from neutrino.tools.trace.probes import TUNNELS, Probe
from neutrino.tools.trace.world import World


def _endpoint(e: Any) -> dict[str, Any]:
    out = {"kind": e.kind, "name": e.name, "address": e.address, "host": e.host}
    if e.port is not None:
        out.update(port_id=e.port.port_id, network_id=e.port.network_id, mac_address=e.port.mac_address)
    if e.floating_ip is not None:
        out["floating_ip"] = e.floating_ip.floating_ip_address
    return out


def _segment(leg: Leg) -> dict[str, Any] | None:
    s = leg.segment
    return None if s is None else {"network_type": s.network_type, "physical_network": s.physical_network,
                                   "segmentation_id": s.segmentation_id}  # fmt: skip


class _Live:
    def __init__(self, live: dict[str, Any]) -> None:
        self.live = live
        self.unverified: list[str] = []

    def trace(self, probe: Probe | None) -> tuple[ofproto.Trace | None, dict[int, str]]:
        if probe is None:
            return None, {}
        text = self.output(probe)
        if text is None:
            return None, {}
        names = ofproto.dp_names(ofproto.parse_dpif(self.live[probe.host].get("dpif", "")))
        return ofproto.parse_trace(text), names

    def output(self, probe: Probe) -> str | None:
        host = self.live.get(probe.host)
        if host is None or "error" in host:
            why = (host or {}).get("error", "no answer")
            note = f"{probe.host}: {why}"
            if note not in self.unverified:
                self.unverified.append(note)
            return None
        got = host.get("results", {}).get(probe.id)
        if got is None or not got.get("ok"):
            self.unverified.append(f"{probe.host}: {probe.kind} {probe.id}: {(got or {}).get('output', 'not run')}")
            return None
        return str(got["output"])


def _flood_branches(tr: ofproto.Trace) -> set[int]:
    """Indexes of lookups in a flooded copy that a bridge dropped (a packet to an unlearned MAC
    is flooded to every bridge of its VLAN; the copies that go nowhere are noise, not a drop)."""
    if tr.dropped:
        return set()
    out: set[int] = set()
    run: list[int] = []
    for i, lk in enumerate(tr.lookups):
        if run and tr.lookups[run[-1]].bridge != lk.bridge:
            run = []
        run.append(i)
        if lk.drops:
            out.update(run)
            run = []
    return out


def _lookups(tr: ofproto.Trace, host: str) -> list[dict[str, Any]]:
    out = []
    flooded = _flood_branches(tr)
    for i, lk in enumerate(tr.lookups):
        hop: dict[str, Any] = {"host": host, "bridge": lk.bridge, "table": lk.table, "flow": lk.flow,
                               "actions": list(lk.actions)}  # fmt: skip
        if lk.vlan_matched() is not None:
            hop["vlan_in"] = lk.vlan_matched()
        if lk.vlan_set() is not None:
            hop["vlan_out"] = lk.vlan_set()
        if lk.tunnel_set() is not None:
            hop["vni_out"] = lk.tunnel_set()
        if lk.tunnel_matched() is not None:
            hop["vni_in"] = lk.tunnel_matched()
        if lk.notes:
            hop["notes"] = list(lk.notes)
        if i in flooded:
            hop["flood_dropped"] = True
        out.append(hop)
    return out


def _leg(i: int, leg: Leg, world: World, probes: dict[str, Probe], live: _Live, disagree: list[str],
         down: set[str]) -> dict[str, Any]:  # fmt: skip
    """``down``: devices of ports the intent says are administratively down, where the
    dataplane dropping the packet is what the intent expects (``confirmed``), not a disagreement."""
    seg = leg.segment
    if leg.to_device in down or leg.from_device in down:
        confirmed: list[str] = []
        doc = _leg(i, leg, world, probes, live, confirmed, set())
        doc["confirmed_drops"] = confirmed
        return doc
    doc: dict[str, Any] = {"kind": "leg", "network": leg.network, "network_id": leg.network_id, "segment": _segment(leg),
                           "from": {"host": leg.from_host, "device": leg.from_device},
                           "to": {"host": leg.to_host, "device": leg.to_device},
                           "packet": {"src_mac": leg.src_mac, "dst_mac": leg.dst_mac, "src_ip": leg.src_ip,
                                      "dst_ip": leg.dst_ip}, "hops": []}  # fmt: skip
    if leg.tunnel_src:
        doc["tunnel"] = {"src": leg.tunnel_src, "dst": leg.tunnel_dst}
    out_tr, out_names = live.trace(probes.get(f"{i}.out"))
    in_tr, in_names = live.trace(probes.get(f"{i}.in"))
    wire: dict[str, Any] = {}
    if out_tr is not None:
        doc["hops"] += _lookups(out_tr, str(leg.from_host))
        outs = [out_names.get(p, str(p)) for p in out_tr.output_ports()]
        doc["egress_outputs"] = outs
        if out_tr.dropped:
            last = out_tr.lookups[-1].flow if out_tr.lookups else "no flow"
            disagree.append(f"{leg.from_host}: OVS drops the packet entering br-int at {leg.from_device} ({last})")
        elif leg.to_host == leg.from_host and leg.to_device not in outs:
            disagree.append(f"{leg.from_host}: OVS sends it to {', '.join(outs)}, not to {leg.to_device}")
        elif leg.to_host != leg.from_host and seg is not None:
            if seg.network_type == "vlan":
                bridge = world.bridge(str(leg.from_host), seg.physical_network)
                vids = [v for lk in out_tr.lookups if lk.bridge == bridge and (v := lk.vlan_set()) is not None]
                wire["vid"] = vids[0] if vids else None
                if seg.segmentation_id not in vids:
                    disagree.append(f"{leg.from_host}: leaves with VID {vids or 'none'}, the segment's is {seg.segmentation_id}")
            elif seg.network_type in TUNNELS:
                wire["vni"] = out_tr.vnis()[0] if out_tr.vnis() else None
                wire["outer"] = [list(t) for t in out_tr.tunnels]
                if seg.segmentation_id not in out_tr.vnis():
                    disagree.append(f"{leg.from_host}: tunnels with VNI {out_tr.vnis() or 'none'}, the segment's is "
                                    f"{seg.segmentation_id}")  # fmt: skip
                elif leg.tunnel_dst and leg.tunnel_dst not in [t[1] for t in out_tr.tunnels]:
                    disagree.append(f"{leg.from_host}: no tunnel to {leg.tunnel_dst} ({leg.to_host})")
        local = [lk.vlan_matched() for lk in out_tr.lookups
                 if lk.bridge != "br-int" and lk.vlan_matched() is not None and not lk.drops]  # fmt: skip
        if local:
            doc["local_vid_from"] = local[0]
    if in_tr is not None:
        doc["hops"] += _lookups(in_tr, str(leg.to_host))
        outs = [in_names.get(p, str(p)) for p in in_tr.output_ports()]
        doc["ingress_outputs"] = outs
        local = [v for lk in in_tr.lookups if (v := lk.vlan_set()) is not None]
        if local:
            doc["local_vid_to"] = local[-1]
        if leg.to_device not in outs:
            last = in_tr.lookups[-1].flow if in_tr.lookups else "no flow"
            disagree.append(f"{leg.to_host}: arriving from the wire, OVS sends it to {', '.join(outs) or 'nowhere'}, "
                            f"not to {leg.to_device} (last flow {last})")  # fmt: skip
    if seg is not None and leg.from_host != leg.to_host:
        wire.setdefault("network_type", seg.network_type)
        wire.update(physical_network=seg.physical_network, segmentation_id=seg.segmentation_id)
        doc["wire"] = wire
    return doc


def _router(i: int, hop: RouterHop, probes: dict[str, Probe], live: _Live, disagree: list[str]) -> dict[str, Any]:
    doc: dict[str, Any] = {"kind": "router", "router": hop.router, "router_id": hop.router_id, "host": hop.host,
                           "namespace": hop.namespace, "in": hop.in_device, "out": hop.out_device, "nat": hop.nat,
                           "packet_in": {"src_ip": hop.src_ip, "dst_ip": hop.dst_ip},
                           "packet_out": {"src_ip": hop.out_src_ip, "dst_ip": hop.out_dst_ip}}  # fmt: skip
    route_probe, nat_probe = probes.get(f"{i}.route"), probes.get(f"{i}.nat")
    route = live.output(route_probe) if route_probe else None
    if route is not None:
        doc["route"] = route.strip().splitlines()[0].strip() if route.strip() else ""
        m = re.search(r"\bdev (\S+)", route)
        if m is None or m.group(1) != hop.out_device:
            disagree.append(f"{hop.host}: the router's namespace routes {hop.out_dst_ip} via "
                            f"{m.group(1) if m else 'nothing'}, not {hop.out_device}")  # fmt: skip
    nat = live.output(nat_probe) if nat_probe else None
    if nat is not None and hop.nat:
        if hop.nat.startswith("SNAT"):
            want = f"snat to {hop.out_src_ip}"
        else:
            want = f"ip daddr {hop.dst_ip} dnat to {hop.out_dst_ip}"
        rules = [ln.strip() for ln in nat.splitlines() if want in ln]
        doc["nat_rule"] = rules[0] if rules else None
        if not rules:
            disagree.append(f"{hop.host}: no '{want}' rule in the router's NAT table")
    return doc


def build(world: World, plan: Plan, found: list[Probe], live: dict[str, Any]) -> dict[str, Any]:
    probes = {p.id: p for p in found}
    state = _Live(live)
    disagree: list[str] = []
    path: list[dict[str, Any]] = []
    down = {vif_device(e.port, world.hybrid_plug(e.host)) for e in (plan.source, plan.destination) if e.port is not None and not e.port.admin_state_up}
    for i, step in enumerate(plan.steps):
        if isinstance(step, RouterHop):
            path.append(_router(i, step, probes, state, disagree))
        else:
            path.append(_leg(i, step, world, probes, state, disagree, down))
    drop = plan.drop
    verdict = plan.verdict
    where, why = (drop.where, f"{drop.what}: {drop.why}") if drop else (None, None)
    if verdict == "delivered" and disagree:
        verdict, where, why = "dropped", "dataplane", disagree[0]
    src = plan.source
    return {
        "from": _endpoint(src), "to": _endpoint(plan.destination),
        "packet": {"protocol": plan.packet.protocol, "src_ip": plan.packet.src_ip, "dst_ip": plan.packet.dst_ip,
                   "dst_port": plan.packet.dst_port},
        "source_devices": _devices(src.port, world.hybrid_plug(src.host)) if src.port is not None else None,
        "destination_devices": _devices(plan.destination.port, world.hybrid_plug(plan.destination.host)) if plan.destination.port is not None else None,
        "path": path,
        "checks": [{"where": c.where, "what": c.what, "ok": c.ok, "why": c.why} for c in plan.checks],
        "notes": list(plan.notes), "disagreements": disagree, "unverified": state.unverified,
        "verdict": verdict, "dropped_at": where, "reason": why,
    }  # fmt: skip


def _devices(port: Any, hybrid: bool) -> list[str]:
    """The devices of a port between the instance and br-int, in the seed's order."""
    dev = vif_device(port, hybrid)
    if dev.startswith("qvo"):
        suffix = port.port_id[:11]
        return [f"tap{suffix}", f"qbr{suffix}", f"qvb{suffix}", dev]
    return [dev]
