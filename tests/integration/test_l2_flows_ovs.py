"""The L2 agent's desired flow tables are accepted by a real OVS 3.1 and forward as meant (root)."""

from __future__ import annotations

import dataclasses

import pytest

from neutrino.agent.l2.local_vlans import LocalVlan
from neutrino.agent.l2.ovs_flows import L2Layout, desired_flows, patch_ports_needed, tunnel_port_options
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.naming import tunnel_port
from neutrino.dataplane.openflow import PROTOCOLS, OpenFlow
from neutrino.dataplane.ovs import OvsInstance
from neutrino.dataplane.ovsdb import Ovsdb
from tests.integration.ovs_fixtures import ovs_host  # noqa: F401

pytestmark = pytest.mark.root

LOCAL_IP, P2, P3, P4 = "172.31.0.1", "172.31.0.2", "172.31.0.3", "172.31.0.4"
PORTS = {ip: tunnel_port("vxlan", ip) for ip in (P2, P3, P4)}
NETS = {
    "net-vlan": LocalVlan("net-vlan", 10, "vlan", "physnet1", 100),
    "net-flat": LocalVlan("net-flat", 12, "flat", "physnet1", None),
    "net-vx": LocalVlan("net-vx", 11, "vxlan", None, 1000),
    "net-local": LocalVlan("net-local", 14, "local", None, None),
}
LAYOUT = L2Layout(physnet_bridges={"physnet1": "br-eth1"}, local_vlans=NETS, tunnel_ports=PORTS,
                  flood={"net-vx": (P2, P3)})
VM = "dl_src=fa:16:3e:00:00:01"
BCAST = f"{VM},dl_dst=ff:ff:ff:ff:ff:ff"


def build(host: HostContext, layout: L2Layout) -> None:
    with Ovsdb(host).transaction() as tx:
        for bridge in desired_flows(layout):
            tx.add_bridge(bridge, datapath_type="netdev", fail_mode="secure", protocols=PROTOCOLS)
        for bridge, port, peer in patch_ports_needed(layout):
            tx.add_port(bridge, port, iface_type="patch", options={"peer": peer})
        for ip, port in layout.tunnel_ports.items():
            tx.add_port("br-tun", port, iface_type="vxlan", options=tunnel_port_options(ip, LOCAL_IP))


def datapath_actions(ovs: OvsInstance, bridge: str, packet: str) -> str:
    out = ovs.appctl("ofproto/trace", bridge, packet)
    lines = [line for line in out.splitlines() if line.startswith("Datapath actions:")]
    assert lines, out
    return lines[-1].removeprefix("Datapath actions:").strip()


def test_desired_tables_are_accepted_and_forward(ovs_host: HostContext) -> None:  # noqa: F811
    build(ovs_host, LAYOUT)
    of, ovs = OpenFlow(ovs_host), OvsInstance(ovs_host)
    tables = desired_flows(LAYOUT)
    for bridge, flows in tables.items():
        of.replace(bridge, flows)
        assert of.cookie_flows(bridge) == len(flows)
    assert any("table=23" in line for line in of.dump("br-int"))  # the canary

    # dead VLAN dropped
    assert datapath_actions(ovs, "br-int", f"in_port=patch-tun,dl_vlan=4095,{BCAST}") == "drop"
    # VLAN 100 from the physnet becomes local VLAN 10 (vlan_vid 4096|10)
    trace = ovs.appctl("ofproto/trace", "br-int", f"in_port=int-br-eth1,dl_vlan=100,{BCAST}")
    assert "set_field:4106->vlan_vid" in trace, trace
    # flat (untagged) from the physnet: mod_vlan_vid pushes a header since the match says untagged
    trace = ovs.appctl("ofproto/trace", "br-int", f"in_port=int-br-eth1,{BCAST}")
    assert "push_vlan:0x8100" in trace and "set_field:4108->vlan_vid" in trace, trace
    assert datapath_actions(ovs, "br-int", f"in_port=int-br-eth1,dl_vlan=999,{BCAST}") == "drop"
    # br-eth1: lvid 10 leaves as VLAN 100, lvid 12 untagged
    assert datapath_actions(ovs, "br-eth1", f"in_port=phy-br-eth1,dl_vlan=99,{BCAST}") == "drop"
    trace = ovs.appctl("ofproto/trace", "br-eth1", f"in_port=phy-br-eth1,dl_vlan=10,{BCAST}")
    assert "set_field:4196->vlan_vid" in trace, trace
    trace = ovs.appctl("ofproto/trace", "br-eth1", f"in_port=phy-br-eth1,dl_vlan=12,{BCAST}")
    assert "pop_vlan" in trace, trace

    # br-tun: broadcast on lvid 11 goes out with VNI 1000 to exactly the two sharing peers
    ofport = {ip: Ovsdb(ovs_host).port(name).ofport for ip, name in PORTS.items()}  # type: ignore[union-attr]
    trace = ovs.appctl("ofproto/trace", "br-tun", f"in_port=patch-int,dl_vlan=11,{BCAST}")
    assert "set_field:0x3e8->tun_id" in trace, trace
    outputs = {line.strip() for line in trace.splitlines() if line.strip().startswith("output:")}
    assert outputs == {f"output:{ofport[P2]}", f"output:{ofport[P3]}"}, trace
    # VNI 1000 from a tunnel: local VLAN 11, learn, then to br-int
    trace = ovs.appctl("ofproto/trace", "br-tun", f"in_port={PORTS[P3]},tun_id=1000,{BCAST}")
    assert "set_field:4107->vlan_vid" in trace and "learn(table=20" in trace, trace
    assert 'bridge("br-int")' in trace, trace
    # an unknown VNI, and a VLAN with no flood entry, are dropped
    assert datapath_actions(ovs, "br-tun", f"in_port={PORTS[P3]},tun_id=999,{BCAST}") == "drop"
    assert datapath_actions(ovs, "br-tun", f"in_port=patch-int,dl_vlan=10,{BCAST}") == "drop"


def test_incremental_apply_of_a_changed_layout(ovs_host: HostContext) -> None:  # noqa: F811
    build(ovs_host, LAYOUT)
    of = OpenFlow(ovs_host)
    for bridge, flows in desired_flows(LAYOUT).items():
        of.apply(bridge, flows)
    changed = L2Layout(physnet_bridges=LAYOUT.physnet_bridges, tunnel_ports=PORTS,
                       local_vlans={k: v for k, v in NETS.items() if k != "net-vlan"},
                       flood={"net-vx": (P3, P4)})
    for bridge, flows in desired_flows(changed).items():
        lines = of.apply(bridge, flows)
        assert all(line.startswith(("add ", "delete_strict ")) for line in lines)
        assert of.cookie_flows(bridge) == len(flows)
    flood = [line for line in of.dump("br-tun") if "table=22" in line and "dl_vlan=11" in line]
    # dumps name the ports (``--names``, what the audit compares)
    assert len(flood) == 1 and flood[0].endswith(f'output:"{PORTS[P3]}",output:"{PORTS[P4]}"'), flood
    assert not any("dl_vlan=100" in line for line in of.dump("br-int"))


def test_arp_responder_answers_on_br_tun(ovs_host: HostContext) -> None:  # noqa: F811
    """OVS 3.1 accepts table 21 and turns a request for a known remote address into its reply,
    sent back to br-int; a request for an unknown address floods to the peers."""
    layout = L2Layout(local_vlans=NETS, tunnel_ports=PORTS, flood={"net-vx": (P2, P3)}, arp_responder=True,
                      arp_entries={"net-vx": (("10.0.0.5", "fa:16:3e:00:00:05"),)})
    build(ovs_host, layout)
    of, ovs = OpenFlow(ovs_host), OvsInstance(ovs_host)
    for bridge, flows in desired_flows(layout).items():
        of.replace(bridge, flows)
    asks = f"in_port=patch-int,dl_vlan=11,{BCAST},arp,arp_op=1,arp_spa=10.0.0.7,arp_sha=fa:16:3e:00:00:01"
    trace = ovs.appctl("ofproto/trace", "br-tun", f"{asks},arp_tpa=10.0.0.5")
    final = next(line for line in trace.splitlines() if line.startswith("Final flow:"))
    for field in ("dl_src=fa:16:3e:00:00:05", "dl_dst=fa:16:3e:00:00:01", "arp_spa=10.0.0.5", "arp_tpa=10.0.0.7",
                  "arp_op=2", "arp_sha=fa:16:3e:00:00:05", "arp_tha=fa:16:3e:00:00:01"):
        assert field in final, trace
    assert "tunnel" not in datapath_actions(ovs, "br-tun", f"{asks},arp_tpa=10.0.0.5"), trace  # back to br-int only
    trace = ovs.appctl("ofproto/trace", "br-tun", f"{asks},arp_tpa=10.0.0.6")
    assert "set_field:0x3e8->tun_id" in trace, trace
    # a gratuitous request for a known address (an HA router moving here) goes to the peers
    garp = f"in_port=patch-int,dl_vlan=11,{BCAST},arp,arp_op=1,arp_spa=10.0.0.5,arp_tpa=10.0.0.5,arp_sha=fa:16:3e:00:00:05"
    trace = ovs.appctl("ofproto/trace", "br-tun", garp)
    assert "set_field:0x3e8->tun_id" in trace and "arp_op=2" not in trace, trace


def test_a_fresh_agents_replace_rewrites_no_flow(ovs_host: HostContext) -> None:  # noqa: F811
    """A restarted agent replaces each whole table (``ovs-ofctl replace-flows``), which compares
    the actions as decoded: a flow whose actions do not come back from the switch as written
    (``mod_vlan_vid``, ``strip_vlan`` under OpenFlow 1.4) would be rewritten at every agent
    restart, its counters reset. Every table must read back as written."""
    import re
    import time

    from neutrino.dataplane import exec as programs

    layout = dataclasses.replace(LAYOUT, arp_responder=True, arp_entries={"net-vx": (("10.0.0.5", "fa:16:3e:00:00:05"),)})
    build(ovs_host, layout)
    for bridge, flows in desired_flows(layout).items():
        OpenFlow(ovs_host).replace(bridge, flows)
    time.sleep(1.1)
    for bridge, flows in desired_flows(layout).items():
        OpenFlow(ovs_host).replace(bridge, flows)  # a fresh adapter: what a restarted agent does
        out = programs.run(["ovs-ofctl", "-O", "OpenFlow14", "dump-flows", bridge], env=ovs_host.ovs_env).stdout
        rewritten = [line.strip() for line in out.splitlines() if (m := re.search(r"duration=([\d.]+)s", line)) and float(m[1]) < 1]
        assert not rewritten, "\n".join(rewritten)
