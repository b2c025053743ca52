"""The topology page's pure parts: state -> logical and physical graphs (nodes, edges, clusters,
styles), a trace's answer -> the highlighted path, DOT text, and the page (docs/topology.md)."""

from __future__ import annotations

import html
import re
import shutil
from typing import Any

import pytest

from neutrino.tools.topology import dot, draw, highlight, logical, page, physical
from neutrino.tools.topology.graph import ALIVE, DEAD, HIGHLIGHT, STATUS_COLOURS
from neutrino.tools.topology.state import (
    Agent,
    Drift,
    FloatingIP,
    LivePort,
    Network,
    Port,
    Router,
    Segment,
    Subnet,
    TopologyState,
    drift_from_answers,
    live_from_answers,
)

pytestmark = pytest.mark.unit

VLAN, VX, EXT = "11111111-aaaa", "22222222-bbbb", "33333333-cccc"
R = "44444444-dddd"
VM1, VM2, VM3 = "dev-vm1", "dev-vm2", "dev-vm3"


def ovs(host: str, alive: bool = True, age: float = 3.0, tunnel: str | None = None, mappings: dict[str, str] | None = None) -> Agent:
    conf: dict[str, Any] = {"bridge_mappings": mappings if mappings is not None else {"physnet1": "br-physnet1"},
                            "tunnel_types": ["vxlan"] if tunnel else []}  # fmt: skip
    if tunnel:
        conf["tunneling_ip"] = tunnel
    return Agent(host, "Open vSwitch agent", alive, age, True, conf)


def lab_state(**kw: Any) -> TopologyState:
    base: dict[str, Any] = dict(
        networks=(Network(VLAN, "vlan-net", segments=(Segment("vlan", "physnet1", 100),)),
                  Network(VX, "vxlan-net", segments=(Segment("vxlan", None, 1037),)),
                  Network(EXT, "public", external=True, segments=(Segment("flat", "external"),))),
        subnets=(Subnet("s-vlan", "", VLAN, "10.0.1.0/24", "10.0.1.1"), Subnet("s-vx", "", VX, "10.0.2.0/24", "10.0.2.1"),
                 Subnet("s-ext", "", EXT, "172.24.4.0/24", "172.24.4.1")),
        ports=(Port("p-vm1", "vm1", VLAN, "compute:nova", VM1, "ACTIVE", True, "compute1", fixed_ips=(("s-vlan", "10.0.1.5"),)),
               Port("p-vm2", "vm2", VLAN, "compute:nova", VM2, "DOWN", False, "compute2", fixed_ips=(("s-vlan", "10.0.1.6"),)),
               Port("p-vm3", "vm3", VX, "compute:nova", VM3, "BUILD", True, "compute2", fixed_ips=(("s-vx", "10.0.2.7"),)),
               Port("p-qr1", "", VLAN, "network:router_interface", R, "ACTIVE", True, "network", fixed_ips=(("s-vlan", "10.0.1.1"),)),
               Port("p-qr2", "", VX, "network:router_interface", R, "ACTIVE", True, "network", fixed_ips=(("s-vx", "10.0.2.1"),)),
               Port("p-qg", "", EXT, "network:router_gateway", R, "ACTIVE", True, "network", fixed_ips=(("s-ext", "172.24.4.10"),)),
               Port("p-dhcp", "", VLAN, "network:dhcp", "dhcp-network", "ACTIVE", True, "network", fixed_ips=(("s-vlan", "10.0.1.2"),)),
               Port("p-fip", "", EXT, "network:floatingip", "fip-1", "N/A", True, "", fixed_ips=(("s-ext", "172.24.4.20"),))),
        routers=(Router(R, "r1", hosts=("network",)),),
        floating_ips=(FloatingIP("fip-1", "172.24.4.20", EXT, "p-vm1", "10.0.1.5", R, "ACTIVE"),),
        agents=(ovs("compute1", tunnel="10.0.0.1"), ovs("compute2", tunnel="10.0.0.2", alive=False, age=300),
                ovs("network", tunnel="10.0.0.3", mappings={"physnet1": "br-physnet1", "external": "br-ex"}),
                Agent("network", "L3 agent", True, 5.0), Agent("network", "DHCP agent", True, 5.0)),
        dhcp_hosts={VLAN: ("network",)},
    )  # fmt: skip
    base.update(kw)
    return TopologyState(**base)


def edges(g: Any) -> set[frozenset[str]]:
    return {frozenset((e.a, e.b)) for e in g.edges}


def test_logical_view_draws_every_object_with_its_status():
    g = logical.build(lab_state())
    for nid in (VLAN, VX, EXT):
        assert logical.net_node(nid) in g.nodes
    assert g.nodes[logical.net_node(EXT)].kind == "external" and "outside" in g.nodes
    assert {logical.subnet_node(s) for s in ("s-vlan", "s-vx", "s-ext")} <= set(g.nodes)
    assert g.nodes[logical.router_node(R)].label == "r1\nnetwork"
    vms = {logical.instance_node(d) for d in (VM1, VM2, VM3)}
    assert vms <= set(g.nodes) and g.nodes[logical.instance_node(VM1)].label == "vm1\ncompute1"
    assert g.nodes[logical.port_node("p-vm1")].attrs["fillcolor"] == STATUS_COLOURS["ACTIVE"]
    assert g.nodes[logical.port_node("p-vm3")].attrs["fillcolor"] == STATUS_COLOURS["BUILD"]
    assert "dashed" in g.nodes[logical.port_node("p-vm2")].attrs["style"]  # admin down
    assert logical.port_node("p-fip") not in g.nodes  # the floating IP's own port: drawn as the floating IP
    e = edges(g)
    assert frozenset((logical.instance_node(VM1), logical.port_node("p-vm1"))) in e
    assert frozenset((logical.port_node("p-vm1"), logical.subnet_node("s-vlan"))) in e
    assert frozenset((logical.router_node(R), logical.port_node("p-qg"))) in e
    assert frozenset((logical.fip_node("fip-1"), logical.port_node("p-vm1"))) in e
    assert frozenset((logical.dhcp_node("p-dhcp"), logical.port_node("p-dhcp"))) in e


def test_instances_group_compute_ports_by_device():
    extra = Port("p-vm1b", "vm1-b", VX, "compute:nova", VM1, "ACTIVE", True, "compute1", fixed_ips=(("s-vx", "10.0.2.9"),))
    state = lab_state(ports=lab_state().ports + (extra,))
    assert [p.id for p in state.instances()[VM1]] == ["p-vm1", "p-vm1b"]
    g = logical.build(state)
    assert sum(1 for n in g.nodes.values() if n.kind == "instance") == 3


def test_physical_view_hosts_bridges_patches_tunnels_namespaces_and_wires():
    g = physical.build(lab_state())
    clusters = {c.id: c for c in g.clusters}
    assert set(clusters) == {"cluster_host_compute1", "cluster_host_compute2", "cluster_host_network"}
    assert clusters["cluster_host_compute1"].attrs["color"] == ALIVE
    assert clusters["cluster_host_compute2"].attrs["color"] == DEAD
    assert "Open vSwitch agent: DOWN, heartbeat 300 s ago" in clusters["cluster_host_compute2"].label
    net = clusters["cluster_host_network"].members
    for node in ("network/br-int", "network/br-tun", "network/br-physnet1", "network/br-ex",
                 f"network/qrouter-{R}", f"network/qdhcp-{VLAN}"):  # fmt: skip
        assert node in net
    labels = {frozenset((e.a, e.b)): e.label for e in g.edges}
    assert labels[frozenset(("network/br-int", "network/br-ex"))] == "int-br-ex / phy-br-ex"
    assert labels[frozenset(("compute1/br-int", "compute1/br-tun"))] == "patch-tun / patch-int"
    assert labels[frozenset(("compute1/br-tun", "compute2/br-tun"))] == "vxlan-0a000002 / vxlan-0a000001"
    assert labels[frozenset(("compute1/vif-p-vm1", "compute1/br-int"))] == "qvop-vm1"
    assert labels[frozenset((f"network/qrouter-{R}", "network/br-int"))] in ("qr-p-qr1", "qr-p-qr2", "qg-p-qg")
    assert frozenset(("compute1/br-physnet1", "wire/physnet1")) in labels
    assert frozenset(("wire/external", "outside")) in labels  # the external network's wire reaches the outside
    assert g.nodes["compute2/vif-p-vm3"].attrs["fillcolor"] == STATUS_COLOURS["BUILD"]


def test_drift_is_listed_in_its_host_and_absent_without_an_audit():
    assert not any(n.kind == "drift" for n in physical.build(lab_state()).nodes.values())
    state = lab_state(drift=(Drift("compute1", "flow br-int table 0", "expected x, found nothing"),))
    g = physical.build(state)
    assert "compute1/drift" in next(c for c in g.clusters if c.id == "cluster_host_compute1").members
    assert "drift: 1" in g.nodes["compute1/drift"].label


def test_drift_from_audit_answers_is_tolerant():
    found = drift_from_answers({
        "compute1": {"drift": [{"kind": "port_tag", "object": "qvo1", "expected": "1", "actual": "4"}], "remaining": []},
        "compute2": {"error": "the agent on compute2 is down"},
        "network": {"drift": ["something odd"]},
    })  # fmt: skip
    assert [(d.host, d.what) for d in found] == [("compute2", "audit not answered"), ("network", "something odd")]
    found = drift_from_answers({"compute1": {"drift": [{"kind": "port_tag", "object": "qvo1", "expected": "1", "actual": "4"}]}})
    assert found == (Drift("compute1", "port_tag qvo1", "expected 1, found 4"),)


ROUTED_TRACE: dict[str, Any] = {
    "from": {"kind": "port", "name": "vm1", "address": "10.0.1.5", "host": "compute1", "port_id": "p-vm1", "network_id": VLAN},
    "to": {"kind": "port", "name": "vm3", "address": "10.0.2.7", "host": "compute2", "port_id": "p-vm3", "network_id": VX},
    "path": [
        {"kind": "leg", "network": "vlan-net", "network_id": VLAN, "segment": {"network_type": "vlan", "physical_network": "physnet1", "segmentation_id": 100},
         "from": {"host": "compute1", "device": "qvop-vm1"}, "to": {"host": "network", "device": "tapp-qr1"},
         "hops": [{"host": "compute1", "bridge": "br-int"}, {"host": "compute1", "bridge": "br-physnet1"},
                  {"host": "network", "bridge": "br-physnet1"}, {"host": "network", "bridge": "br-int"}]},
        {"kind": "router", "router": "r1", "router_id": R, "host": "network"},
        {"kind": "leg", "network": "vxlan-net", "network_id": VX, "segment": {"network_type": "vxlan", "physical_network": None, "segmentation_id": 1037},
         "from": {"host": "network", "device": "tapp-qr2"}, "to": {"host": "compute2", "device": "qvop-vm3"},
         "tunnel": {"src": "10.0.0.3", "dst": "10.0.0.2"},
         "hops": [{"host": "network", "bridge": "br-int"}, {"host": "network", "bridge": "br-tun"},
                  {"host": "compute2", "bridge": "br-tun"}, {"host": "compute2", "bridge": "br-int"}]},
    ],
    "checks": [], "notes": [], "disagreements": [], "unverified": [], "verdict": "delivered", "dropped_at": None, "reason": None,
    "packet": {"protocol": "tcp", "src_ip": "10.0.1.5", "dst_ip": "10.0.2.7", "dst_port": 22},
}  # fmt: skip


def test_a_routed_trace_is_highlighted_on_both_views():
    state = lab_state()
    lg, pg = draw.graphs(state, page.Traced("vm1", "vm3", ROUTED_TRACE))
    assert lg.highlighted() == {
        logical.port_node("p-vm1"), logical.instance_node(VM1), logical.subnet_node("s-vlan"), logical.net_node(VLAN),
        logical.router_node(R), logical.port_node("p-qr1"), logical.port_node("p-qr2"), logical.subnet_node("s-vx"),
        logical.net_node(VX), logical.port_node("p-vm3"), logical.instance_node(VM3),
    }  # fmt: skip
    assert logical.net_node(EXT) not in lg.highlighted()
    assert pg.highlighted() >= {"compute1/vif-p-vm1", "compute1/br-int", "compute1/br-physnet1", "wire/physnet1",
                                "network/br-physnet1", f"network/qrouter-{R}", "network/br-tun", "compute2/br-tun",
                                "compute2/vif-p-vm3"}  # fmt: skip
    assert "network/br-ex" not in pg.highlighted()
    hl = [e for e in pg.edges if e.attrs.get("class") == "hl"]
    lit = {frozenset((e.a, e.b)) for e in hl}
    assert frozenset(("network/br-tun", "compute2/br-tun")) in lit
    assert frozenset(("compute1/br-tun", "compute2/br-tun")) not in lit  # compute1's br-tun is not on this path
    assert all(e.attrs["color"] == HIGHLIGHT for e in hl)


def test_a_trace_from_the_outside_highlights_the_floating_ip_and_the_wire():
    doc = {"from": {"kind": "outside", "address": "172.24.4.1"},
           "to": {"kind": "port", "port_id": "p-vm1", "host": "compute1", "floating_ip": "172.24.4.20"},
           "path": [{"kind": "leg", "network_id": EXT, "segment": {"network_type": "flat", "physical_network": "external"},
                     "from": {"host": "network", "device": "br-ex"}, "to": {"host": "network", "device": "tapp-qg"},
                     "hops": [{"host": "network", "bridge": "br-ex"}, {"host": "network", "bridge": "br-int"}]},
                    {"kind": "router", "router_id": R, "host": "network"}]}  # fmt: skip
    state = lab_state()
    assert {logical.OUTSIDE, logical.fip_node("fip-1"), logical.net_node(EXT), logical.port_node("p-qg")} <= \
        highlight.logical_nodes(state, doc)  # fmt: skip
    assert {"outside", "wire/external", "network/br-ex", f"network/qrouter-{R}"} <= highlight.physical_nodes(state, doc)


def test_dot_quotes_every_name():
    state = lab_state(networks=(Network(VLAN, 'evil" -> x [label="pwn'),))
    text = dot.render(logical.build(state))
    assert 'label="evil\\" -> x [label=\\"pwn"' in text
    assert text.startswith('digraph "logical" {') and text.rstrip().endswith("}")


def test_page_embeds_both_views_legend_form_and_trace():
    state = lab_state()
    traced = page.Traced("vm1", "vm3", ROUTED_TRACE, text="vm1 -> vm3 ...", protocol="tcp", port="22")
    text = draw.html(state, lambda d: f"<svg><!--{len(d)}--></svg>", traced=traced, generated_at="now")
    assert text.count("<svg>") == 2 and 'id="logical"' in text and 'id="physical"' in text
    assert "3 networks" in text and "no audit data" in text and "4 of 5 agents alive" in text
    assert 'id="trace-verdict" class="verdict-delivered"' in text and "vm1 -&gt; vm3 ..." in text
    assert "<option selected>tcp</option>" in text and 'value="22"' in text and 'value="vm3"' in text
    assert 'id="trace-form"' in text and "http" not in re.sub(r"<svg>.*?</svg>", "", text)  # nothing from elsewhere
    errored = draw.html(state, lambda d: "<svg></svg>", traced=page.Traced("x", "y", error="x names nothing"))
    assert 'id="trace-error"' in errored and "x names nothing" in errored


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) is not installed")
def test_graphviz_draws_the_views_with_node_ids():
    from neutrino.dataplane import graphviz

    state = lab_state()
    lg, pg = draw.graphs(state, page.Traced("vm1", "vm3", ROUTED_TRACE))
    svg_l, svg_p = (html.unescape(graphviz.svg(dot.render(g))) for g in (lg, pg))  # Graphviz writes - as &#45;
    assert svg_l.startswith("<svg") and f'id="{logical.net_node(VLAN)}"' in svg_l
    assert "vlan-net" in svg_l and "r1" in svg_l and "172.24.4.20" in svg_l
    assert "compute1" in svg_p and "br-tun" in svg_p and f"qrouter-{R[:8]}" in svg_p
    assert re.search(r'<g id="network/br-tun" class="node hl"', svg_p), svg_p[:2000]


def test_only_the_router_ports_on_the_path_are_lit_in_the_physical_view():
    _, pg = draw.graphs(lab_state(), page.Traced("vm1", "vm3", ROUTED_TRACE))
    lit = {e.label for e in pg.edges if e.attrs.get("class") == "hl" and e.a == f"network/qrouter-{R}"}
    assert lit == {"qr-p-qr1", "qr-p-qr2"}  # not the gateway's qg-


def test_a_linux_bridge_host_has_a_brq_bridge_per_network_and_its_uplinks():
    lb = Agent("compute2", "Linux bridge agent", True, 2.0, True,
               {"interface_mappings": {"physnet1": "eth1"}, "tunnel_types": ["vxlan"], "tunneling_ip": "10.0.0.2"})  # fmt: skip
    agents = tuple(a for a in lab_state().agents if a.host != "compute2") + (lb,)
    g = physical.build(lab_state(agents=agents))
    members = next(c for c in g.clusters if c.id == "cluster_host_compute2").members
    brq_vlan, brq_vx = f"compute2/brq{VLAN[:11]}", f"compute2/brq{VX[:11]}"
    assert {brq_vlan, brq_vx} <= set(members) and "compute2/br-int" not in g.nodes
    labels = {frozenset((e.a, e.b)): e.label for e in g.edges}
    assert labels[frozenset((brq_vlan, "wire/physnet1"))] == "eth1.100"
    assert labels[frozenset((brq_vx, physical.TUNNELS))] == "vxlan-1037"
    assert labels[frozenset(("compute2/vif-p-vm3", brq_vx))] == "tapp-vm3"
    assert not any("compute2/br-tun" in (e.a, e.b) for e in g.edges)


DPIF_COMPUTE1 = """netdev@ovs-netdev: hit:5278 missed:189
  br-int:
    br-int 65534/1: (tap)
    int-br-physnet1 1/none: (patch: peer=phy-br-physnet1)
    qvop-vm1 3/7: (system)
  br-phy:
    br-phy 65534/5: (tap)
    eth2 1/4: (system)
  br-physnet1:
    br-physnet1 65534/3: (tap)
    eth1 1/2: (system)
    phy-br-physnet1 2/none: (patch: peer=int-br-physnet1)
  br-tun:
    br-tun 65534/6: (tap)
    patch-int 1/none: (patch: peer=patch-tun)
    vxlan-0a000002 2/8: (vxlan: key=flow, local_ip=10.0.0.1, remote_ip=10.0.0.2)
"""


def test_live_ports_confirm_the_intent_and_missing_ones_are_red():
    live, errors = live_from_answers({"compute1": {"dpif": DPIF_COMPUTE1, "results": {}},
                                      "network": {"error": "the agent on network did not answer within 3 s (down?)"}})  # fmt: skip
    assert errors == {"network": "the agent on network did not answer within 3 s (down?)"}
    assert LivePort("br-tun", "vxlan-0a000002", "vxlan") in live["compute1"]
    g = physical.build(lab_state(live=live, live_errors=errors))
    edge = {frozenset((e.a, e.b)): e for e in g.edges}
    patch_tun = edge[frozenset(("compute1/br-int", "compute1/br-tun"))]
    assert patch_tun.label == "patch-tun / patch-int (missing)" and patch_tun.attrs["color"] == DEAD  # patch-tun is gone
    assert edge[frozenset(("compute1/br-int", "compute1/br-physnet1"))].label == "int-br-physnet1 / phy-br-physnet1"
    assert edge[frozenset(("compute1/vif-p-vm1", "compute1/br-int"))].label == "qvop-vm1"
    assert edge[frozenset(("compute1/br-physnet1", "wire/physnet1"))].label == "eth1"  # the real NIC
    assert edge[frozenset(("compute1/br-tun", "compute2/br-tun"))].label == "vxlan-0a000002 / vxlan-0a000001"
    assert edge[frozenset(("compute1/br-tun", "network/br-tun"))].label.endswith("(missing)")  # no vxlan-0a000003
    assert "(live only)" in g.nodes["compute1/br-phy"].label
    labels = {c.id: c.label for c in g.clusters}
    assert "live (dpif/show): 4 bridges, 11 ports" in labels["cluster_host_compute1"]
    assert "live state unknown: the agent on network did not answer" in labels["cluster_host_network"]
    assert "(missing)" not in " ".join(e.label for e in edge.values() if "network/" in e.a and "network/" in e.b)
