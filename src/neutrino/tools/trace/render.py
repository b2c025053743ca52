"""The trace as text, in the seed's words: tap -> qbr -> qvb/qvo -> br-int (local VID) ->
br-<physnet> (VID rewrite) or br-tun (VNI) -> the wire -> the other host's bridges -> ... ->
the destination, each bridge lookup with the flow that matched, then the verdict."""

from __future__ import annotations

from typing import Any


def _check(doc: dict[str, Any], what: str, where_host: str | None) -> str | None:
    for c in doc["checks"]:
        if c["what"] == what:
            return f"[{'ok' if c['ok'] else 'DROP'} {what}: {c['why']}]"
    return None


def _packet(doc: dict[str, Any]) -> str:
    p = doc["packet"]
    port = f" port {p['dst_port']}" if p.get("dst_port") is not None else ""
    return f"{p['protocol']} {p['src_ip']} -> {p['dst_ip']}{port}"


def _short(action: str) -> str:
    """``learn(table=20,...)``: an action too long for a line keeps its name and first argument."""
    return action if len(action) <= 60 or "(" not in action else action.split(",", 1)[0] + ",...)"


def _hop(h: dict[str, Any]) -> str:
    extra = []
    if "vlan_in" in h and "vlan_out" in h:
        extra.append(f"VID {h['vlan_in']} -> {h['vlan_out']}")
    elif "vlan_in" in h:
        extra.append(f"VID {h['vlan_in']}")
    elif "vlan_out" in h:
        extra.append(f"tag VID {h['vlan_out']}")
    if "vni_in" in h:
        extra.append(f"VNI {h['vni_in']}")
    if "vni_out" in h:
        extra.append(f"VNI {h['vni_out']}")
    notes = [n for n in h.get("notes", ()) if not n.startswith("tunneling from")]
    tail = f"  ({'; '.join(extra)})" if extra else ""
    more = f"  -> {notes[0]}" if notes else ""
    return f"      {h['host']:<9} {h['bridge']:<12} {h['flow']}: {' '.join(_short(a) for a in h['actions'])}{tail}{more}"


def _hops(hops: list[dict[str, Any]]) -> list[str]:
    lines = [_hop(h) for h in hops if not h.get("flood_dropped")]
    dropped = sorted({f"{h['host']} {h['bridge']}" for h in hops if h.get("flood_dropped")})
    if dropped:
        lines.append(f"      (flooded copies dropped by {', '.join(dropped)}: no learned MAC yet)")
    return lines


def _leg(leg: dict[str, Any], out: list[str]) -> None:
    seg = leg.get("segment") or {}
    kind = seg.get("network_type", "?")
    seg_id = seg.get("segmentation_id")
    label = f"{kind}" + (f" {seg['physical_network']}" if seg.get("physical_network") else "") + (
        f" {'VNI' if kind in ('vxlan', 'geneve', 'gre') else 'VID'} {seg_id}" if seg_id is not None else "")
    a, b = leg["from"], leg["to"]
    src = f"{a['host']} {a['device']}" if a["host"] else "the outside (wire)"
    dst = f"{b['host']} {b['device']}" if b["host"] else "the outside (wire)"
    out.append(f"  {leg['network']} ({label}): {src} -> {dst}")
    wire = leg.get("wire")
    hops = leg["hops"]
    from_hops = [h for h in hops if h["host"] == a["host"]] if a["host"] != b["host"] else hops
    to_hops = [h for h in hops if h["host"] == b["host"]] if a["host"] != b["host"] else []
    if "local_vid_from" in leg:
        out.append(f"    br-int on {a['host']} tags it with local VID {leg['local_vid_from']}")
    out += _hops(from_hops)
    if wire is not None:
        if wire["network_type"] in ("vxlan", "geneve", "gre"):
            t = leg.get("tunnel") or {}
            out.append(f"    the wire: {wire['network_type']} VNI {wire.get('vni', wire['segmentation_id'])}, "
                       f"outer {t.get('src')} -> {t.get('dst')}")  # fmt: skip
        elif wire["network_type"] == "vlan":
            out.append(f"    the wire: {wire['physical_network']}, VID {wire.get('vid', wire['segmentation_id'])}")
        else:
            out.append(f"    the wire: {wire['physical_network']}, untagged ({wire['network_type']})")
    elif not b["host"] or not a["host"]:
        out.append(f"    the wire: {leg['network']}")
    out += _hops(to_hops)
    for c in leg.get("confirmed_drops", ()):
        out.append(f"    the dataplane drops it too: {c}")
    if "local_vid_to" in leg:
        outs = leg.get("ingress_outputs", [])
        also = [o for o in outs if o != b["device"]]
        tail = f" (also flooded to {', '.join(also)})" if also else ""
        where = b["device"] if b["device"] in outs else (", ".join(outs) or "nowhere")
        out.append(f"    br-int on {b['host']}: local VID {leg['local_vid_to']}, out to {where}{tail}")


def _router(r: dict[str, Any], out: list[str]) -> None:
    out.append(f"  router {r['router']} on {r['host']} ({r['namespace']}): in {r['in']}, out {r['out']}")
    if "route" in r:
        out.append(f"      route: {r['route']}")
    if r.get("nat"):
        rule = f"  (rule: {r['nat_rule']})" if r.get("nat_rule") else ""
        out.append(f"      {r['nat']}{rule}")


def text(doc: dict[str, Any]) -> str:
    src, dst = doc["from"], doc["to"]
    out = [f"trace {_packet(doc)}: {_who(src)} -> {_who(dst)}"]
    if doc.get("source_devices"):
        devs = doc["source_devices"]
        chk = [c for c in (_check(doc, "anti-spoofing", None), _check(doc, "security group egress", None)) if c]
        out.append(f"  {src['name']} on {src['host']}: {' -> '.join(devs[:2])} {' '.join(chk)} -> "
                   f"{'/'.join(devs[2:])}" if len(devs) == 4 else f"  {src['name']}: {devs[0]}")  # fmt: skip
    for step in doc["path"]:
        (_router if step["kind"] == "router" else _leg)(step, out)
    if doc.get("destination_devices"):
        devs = list(reversed(doc["destination_devices"]))
        chk = _check(doc, "security group ingress", None) or ""
        out.append(f"  {dst['name']} on {dst['host']}: {'/'.join(reversed(devs[:2]))} -> {devs[2]} {chk} -> "
                   f"{devs[3]}" if len(devs) == 4 else f"  {dst['name']}: {devs[0]}")  # fmt: skip
    for c in doc["checks"]:
        if c["what"] == "admin state":
            out.append(f"  {c['where']}: {c['why']}")
    out += [f"  note: {n}" for n in doc["notes"]]
    out += [f"  intent and dataplane disagree: {d}" for d in doc["disagreements"]]
    out += [f"  not verified on the dataplane: {u}" for u in doc["unverified"]]
    if doc["verdict"] == "delivered":
        out.append("verdict: delivered")
    else:
        out.append(f"verdict: dropped at {doc['dropped_at']}: {doc['reason']}")
    return "\n".join(out)


def _who(e: dict[str, Any]) -> str:
    if e["kind"] == "outside":
        return f"outside {e['address']}"
    fip = f" via floating IP {e['floating_ip']}" if e.get("floating_ip") else ""
    return f"{e['name']} {e['address']} ({e['host']}){fip}"
