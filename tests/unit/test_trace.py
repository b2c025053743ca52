"""``neutrino trace``'s pure parts on the intent and the dataplane outputs of a real lab (the
demo's cloud: vm1/vm2 on a VLAN network, vm3/vm4 on a VXLAN network, a router on the network
node with a floating IP for vm1), captured into tests/fixtures/trace/."""

from __future__ import annotations

import dataclasses
import io
import json
import urllib.error
from pathlib import Path

import pytest

from neutrino.agent import trace as agent_trace
from neutrino.cli.trace import error_line
from neutrino.contract import messages
from neutrino.tools.trace import intent, ofproto, probes, render, report, secgroups
from neutrino.tools.trace.world import TraceInputError, World, resolve

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parent.parent / "fixtures" / "trace"
VM1, VM2 = "41ea0ecb-23d7-40be-bd31-a540eadee6c8", "0b756078-1154-4e82-82ff-cdbdc03fe4f6"
FIP = "198.51.100.16"


def load_world(name: str = "world.json") -> World:
    doc = json.loads((FIXTURES / name).read_text())
    states = {h: messages.decode_state(s) for h, s in doc.pop("states").items()}
    return World(states=states, **doc)


def run(world: World, frm: str, to: str, proto: str = "icmp", port: int | None = None, source_ip: str | None = None,
        live: str = "live.json") -> dict:  # fmt: skip
    plan = intent.plan(world, resolve(world, frm, role="FROM"), resolve(world, to, role="TO"), proto, port, source_ip)
    found = probes.probes(world, plan)
    key = f"{frm}>{to}:{proto}:{port or ''}"
    answers = json.loads((FIXTURES / live).read_text())[key]
    return report.build(world, plan, found, answers)


@pytest.fixture(scope="module")
def world() -> World:
    return load_world()


# --- resolving FROM and TO ------------------------------------------------------------------


def test_endpoints_by_name_id_address_and_floating_ip(world: World) -> None:
    assert resolve(world, "vm1", role="FROM").port.port_id == VM1  # type: ignore[union-attr]
    assert resolve(world, VM2, role="FROM").address == "10.0.1.187"
    assert resolve(world, "10.0.1.187", role="TO").name == "vm2"
    by_fip = resolve(world, FIP, role="TO")
    assert (by_fip.address, by_fip.floating_ip.floating_ip_address) == ("10.0.1.138", FIP)  # type: ignore[union-attr]
    outside = resolve(world, "outside", role="FROM")
    assert (outside.kind, outside.address) == ("outside", "198.51.100.1")


@pytest.mark.parametrize(("text", "words"), [
    ("nosuchvm", "no bound port, instance or address"),
    ("192.0.2.7", "on no network neutrino knows"),
    ("10.0.1.1", "router interface address"),
    ("198.51.100.96", "gateway address"),
])  # fmt: skip
def test_bad_endpoints_say_why_in_one_line(world: World, text: str, words: str) -> None:
    with pytest.raises(TraceInputError, match=words) as err:
        resolve(world, text, role="TO")
    assert "\n" not in str(err.value)


def test_no_possible_path(world: World) -> None:
    outside = resolve(world, "outside", role="FROM")
    with pytest.raises(TraceInputError, match="both the outside"):
        intent.plan(world, outside, outside)
    with pytest.raises(TraceInputError, match="only through a floating IP"):
        intent.plan(world, outside, resolve(world, "vm2", role="TO"), "tcp", 22)
    lonely = dataclasses.replace(world, states={h: dataclasses.replace(s, routers=()) for h, s in world.states.items()})
    with pytest.raises(TraceInputError, match="no router joins vlan-net and vxlan-net"):
        intent.plan(lonely, resolve(lonely, "vm1", role="FROM"), resolve(lonely, "vm4", role="TO"))


# --- the intent's path ----------------------------------------------------------------------


def test_same_network_across_hosts_on_vlan(world: World) -> None:
    doc = run(world, "vm1", "vm2", "tcp", 22)
    assert doc["verdict"] == "delivered" and not doc["disagreements"] and not doc["unverified"]
    (leg,) = doc["path"]
    assert leg["wire"] == {"network_type": "vlan", "vid": 100, "physical_network": "physnet1", "segmentation_id": 100}
    assert (leg["local_vid_from"], leg["local_vid_to"]) == (1, 1)
    assert leg["ingress_outputs"] == ["qvo0b756078-11"]
    assert doc["source_devices"] == ["tap41ea0ecb-23", "qbr41ea0ecb-23", "qvb41ea0ecb-23", "qvo41ea0ecb-23"]


def test_a_host_without_hybrid_plug_has_the_tap_on_br_int(world: World) -> None:
    """An agent reporting ovs_hybrid_plug False (noop firewall): its instances' taps are the br-int ports."""
    src_host = world.ports()[VM1][0]
    direct = dataclasses.replace(world, direct_plug=frozenset({src_host}))
    assert not direct.hybrid_plug(src_host) and world.hybrid_plug(src_host)
    plan = intent.plan(direct, resolve(direct, "vm1", role="FROM"), resolve(direct, "vm2", role="TO"), "tcp", 22, None)
    (leg,) = plan.steps
    assert (leg.from_device, leg.to_device) == ("tap41ea0ecb-23", "qvo0b756078-11")
    assert report._devices(plan.source.port, False) == ["tap41ea0ecb-23"]


def test_same_network_across_hosts_on_vxlan(world: World) -> None:
    doc = run(world, "vm3", "vm4", "udp", 53)
    assert doc["verdict"] == "delivered" and not doc["disagreements"]
    (leg,) = doc["path"]
    assert leg["wire"]["vni"] == 1037 and ["172.31.0.2", "172.31.0.3"] in leg["wire"]["outer"]
    assert leg["tunnel"] == {"src": "172.31.0.2", "dst": "172.31.0.3"}


def test_routed_between_networks(world: World) -> None:
    doc = run(world, "vm1", "vm4", "tcp", 22)
    assert doc["verdict"] == "delivered" and not doc["disagreements"]
    vlan, router, vxlan = doc["path"]
    assert (vlan["to"]["host"], vlan["local_vid_to"]) == ("network", 3)
    assert router["route"].startswith("10.0.2.58 from 10.0.1.138 dev qr-f633e775-c2") and router["nat"] is None
    assert vxlan["wire"]["vni"] == 1037 and vxlan["tunnel"] == {"src": "172.31.0.1", "dst": "172.31.0.3"}


def test_routed_with_learned_macs(world: World) -> None:
    """Once MACs are learned, br-tun's learned flow (table 20) matches the local VID as
    ``vlan_tci`` and sets the VNI with ``load``: the same facts, other words."""
    doc = run(world, "vm1", "vm4", "tcp", 22, live="live_learned.json")
    assert doc["verdict"] == "delivered" and not doc["disagreements"]
    vx = doc["path"][2]
    learned = next(h for h in vx["hops"] if h["bridge"] == "br-tun" and h["table"] == 20)
    assert (learned["vlan_in"], learned["vni_out"], vx["local_vid_from"], vx["wire"]["vni"]) == (2, 1037, 2, 1037)


def test_snat_to_the_outside(world: World) -> None:
    doc = run(world, "vm2", "outside", "tcp", 80)
    assert doc["verdict"] == "delivered" and not doc["disagreements"]
    router = doc["path"][1]
    assert router["nat"].startswith("SNAT 10.0.1.187 -> 198.51.100.96")
    assert router["nat_rule"].endswith("snat to 198.51.100.96")
    assert doc["path"][2]["packet"]["src_ip"] == "198.51.100.96"


def test_floating_ip_from_the_outside(world: World) -> None:
    doc = run(world, "outside", FIP, "tcp", 22)
    assert doc["verdict"] == "delivered" and not doc["disagreements"]
    router = doc["path"][1]
    assert router["nat"].startswith(f"DNAT {FIP} -> 10.0.1.138") and router["nat_rule"] == f"ip daddr {FIP} dnat to 10.0.1.138"
    assert doc["checks"][-1]["why"] == "ingress IPv4 tcp 22 from 0.0.0.0/0 (group ssh)"


def test_blocked_by_a_security_group(world: World) -> None:
    doc = run(world, "outside", "vm1", "tcp", 23)
    assert doc["verdict"] == "dropped" and doc["dropped_at"] == "vm1 on compute1"
    assert "no ingress rule of group(s) default, ssh allows tcp port 23 from 198.51.100.1" in doc["reason"]
    assert not doc["disagreements"]  # the security group is in qbr (nftables): OVS forwards it


def test_blocked_by_anti_spoofing(world: World) -> None:
    doc = run(world, "vm1", "vm2", "icmp", None, source_ip="10.0.1.200")
    assert doc["verdict"] == "dropped" and doc["reason"].startswith("anti-spoofing: 10.0.1.200")


def test_port_admin_down_is_confirmed_by_the_dataplane() -> None:
    down = load_world("world_admin_down.json")
    doc = run(down, "vm1", "vm2", "tcp", 22, live="live_admin_down.json")
    assert doc["verdict"] == "dropped" and "administratively down" in doc["reason"]
    assert not doc["disagreements"] and doc["path"][0]["confirmed_drops"]


def test_a_drifted_vid_is_a_disagreement(world: World) -> None:
    live = json.loads((FIXTURES / "live.json").read_text())["vm1>vm2:tcp:22"]
    probe = live["compute1"]["results"]["0.out"]
    probe["output"] = probe["output"].replace("set_field:4196->vlan_vid", "set_field:4197->vlan_vid").replace(
        "push_vlan(vid=100", "push_vlan(vid=101")
    plan = intent.plan(world, resolve(world, "vm1", role="FROM"), resolve(world, "vm2", role="TO"), "tcp", 22)
    doc = report.build(world, plan, probes.probes(world, plan), live)
    assert doc["verdict"] == "dropped" and doc["dropped_at"] == "dataplane"
    assert "leaves with VID [101], the segment's is 100" in doc["disagreements"][0]


def test_a_host_that_does_not_answer_leaves_its_hops_unverified(world: World) -> None:
    plan = intent.plan(world, resolve(world, "vm1", role="FROM"), resolve(world, "vm2", role="TO"), "tcp", 22)
    doc = report.build(world, plan, probes.probes(world, plan), {"compute1": {"error": "agent down"}})
    assert doc["verdict"] == "delivered"
    assert doc["unverified"] == ["compute1: agent down", "compute2: no answer"]


def test_render_in_the_seeds_words(world: World) -> None:
    out = render.text(run(world, "vm1", "vm4", "tcp", 22))
    assert "tap41ea0ecb-23 -> qbr41ea0ecb-23" in out and "qvb41ea0ecb-23/qvo41ea0ecb-23" in out
    assert "the wire: physnet1, VID 100" in out and "(VID 1 -> 100)" in out
    assert "the wire: vxlan VNI 1037, outer 172.31.0.1 -> 172.31.0.3" in out
    assert out.splitlines()[-1] == "verdict: delivered"


# --- security groups --------------------------------------------------------------------------


def test_security_group_rules(world: World) -> None:
    vm1 = world.ports()[VM1][1]
    groups = world.states["compute1"].remote_groups
    names = world.group_names
    pkt = secgroups.Packet("tcp", "10.0.1.187", "10.0.1.138", 5000)
    assert secgroups.decide(vm1, "ingress", pkt, groups, names).rule.startswith("ingress IPv4 any protocol from members")
    outsider = secgroups.Packet("tcp", "192.0.2.9", "10.0.1.138", 5000)
    assert not secgroups.decide(vm1, "ingress", outsider, groups, names).allowed
    ping = secgroups.Packet("icmp", "192.0.2.9", "10.0.1.138")
    assert secgroups.decide(vm1, "ingress", ping, groups, names).rule == "ingress IPv4 icmp from 0.0.0.0/0 (group ssh)"
    no_security = dataclasses.replace(vm1, port_security_enabled=False)
    assert secgroups.decide(no_security, "ingress", outsider, groups, names).allowed
    assert secgroups.spoofed(no_security, dataclasses.replace(outsider, src_ip="10.9.9.9")) is None
    paired = dataclasses.replace(vm1, allowed_address_pairs=(("10.0.1.0/24", ""),))
    assert secgroups.spoofed(paired, secgroups.Packet("icmp", "10.0.1.200", "10.0.1.187", src_mac=vm1.mac_address)) is None


# --- the dataplane's outputs -----------------------------------------------------------------


def test_ofproto_trace_parser_on_a_native_tunnel() -> None:
    live = json.loads((FIXTURES / "live.json").read_text())["vm3>vm4:udp:53"]
    tr = ofproto.parse_trace(live["compute1"]["results"]["0.out"]["output"])
    assert tr.bridges() == ["br-int", "br-tun", "br-phy"]
    out = next(lk for lk in tr.lookups if lk.table == 22)
    assert (out.vlan_matched(), out.tunnel_set(), out.actions[-2:]) == (2, 1037, ("output:2", "output:3"))
    assert tr.vnis() == [1037, 1037] and ("172.31.0.2", "172.31.0.3") in tr.tunnels
    assert tr.output_ports() == [4] and not tr.dropped
    ports = ofproto.parse_dpif(live["compute1"]["dpif"])
    assert ofproto.uplink(ports, "br-physnet1") == "eth1"
    assert "qvo532f272f-e2" in ofproto.dp_names(ports).values()


def test_ofproto_trace_parser_on_a_drop() -> None:
    live = json.loads((FIXTURES / "live_admin_down.json").read_text())["vm1>vm2:tcp:22"]
    tr = ofproto.parse_trace(live["compute2"]["results"]["0.in"]["output"])
    assert tr.dropped and tr.lookups[-1].drops and tr.lookups[-1].flow == "table=0, priority=2,in_port=1"


# --- the agent's probes --------------------------------------------------------------------


def test_agent_builds_only_read_only_commands() -> None:
    dpif = json.loads((FIXTURES / "live.json").read_text())["vm1>vm2:tcp:22"]["compute2"]["dpif"]
    how, argv, ns = agent_trace.command({"kind": "ofproto", "bridge": "br-physnet1", "in_port": "@uplink",
                                         "flow": "dl_vlan=100,icmp"}, dpif)  # fmt: skip
    assert (how, argv, ns) == ("appctl", ["ofproto/trace", "br-physnet1", "in_port=eth1,dl_vlan=100,icmp"], None)
    rid = "qrouter-182c0cac-18ec-4fcb-a318-123a86d37e1a"
    assert agent_trace.command({"kind": "nat", "namespace": rid}, dpif)[1] == ["nft", "list", "table", "ip", "neutrino-nat"]
    for bad in ({"kind": "ofproto", "bridge": "br-int;rm", "in_port": "x", "flow": "ip"},
                {"kind": "ofproto", "bridge": "br-int", "in_port": "x", "flow": "ip actions=drop"},
                {"kind": "route", "namespace": "qdhcp-x", "dst": "1.2.3.4", "src": "1.2.3.4", "iif": "x"},
                {"kind": "route", "namespace": rid, "dst": "1.2.3.4; reboot", "src": "1.2.3.4", "iif": "x"},
                {"kind": "shell"}):  # fmt: skip
        with pytest.raises(agent_trace.BadProbe):
            agent_trace.command(bad, dpif)


def test_agent_answers_each_probe_and_says_why_one_failed() -> None:
    calls = []

    def appctl(*argv: str) -> str:
        calls.append(argv)
        return "dpif" if argv == ("dpif/show",) else "trace"

    answer = agent_trace.run_probes(
        [{"id": "a", "kind": "ofproto", "bridge": "br-int", "in_port": "qvo1", "flow": "icmp"}, {"id": "b", "kind": "x"}],
        appctl, lambda argv, ns: "", lambda base: "lab-" + base)  # fmt: skip
    assert answer["results"] == {"a": {"ok": True, "output": "trace"}, "b": {"ok": False, "output": "unknown probe kind 'x'"}}


def test_an_api_error_is_one_line():
    """trace, audit and topology print Neutron's message, else the body's first line, else the reason."""
    def err(body: bytes) -> urllib.error.HTTPError:
        return urllib.error.HTTPError("http://server/v2.0/audit", 409, "Conflict", {}, io.BytesIO(body))  # type: ignore[arg-type]

    assert error_line(err(b'{"NeutronError": {"type": "AuditRepairRefused", "message": "agent down", "detail": ""}}')) == "agent down"
    assert error_line(err(b"bad gateway\nsecond line")) == "bad gateway"
    assert error_line(err(b"")) == "Conflict"
