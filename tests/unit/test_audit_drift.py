"""The audit's comparisons as data: flows, OVS ports, presence, nftables, dnsmasq, port status."""

from __future__ import annotations

import pytest

from neutrino.dataplane.openflow import COOKIE, Flow
from neutrino.dataplane.ovsdb import PortInfo
from neutrino.tools.audit import drift
from neutrino.tools.audit.drift import Drift, PortExpect

pytestmark = pytest.mark.unit

FOREIGN = 0x1234


def dumped(flow: Flow, cookie: int = COOKIE, match: str | None = None, actions: str | None = None) -> str:
    """As ovs-ofctl dump-flows --no-stats prints it (numbers in hex, table=0 spelled out)."""
    m = flow.match if match is None else match
    return f" cookie={cookie:#x}, table={flow.table}, priority={flow.priority}" + (f",{m}" if m else "") + \
        f" actions={flow.actions if actions is None else actions}"


FLOWS = [Flow(0, 65535, "dl_vlan=4095", "drop"), Flow(4, 1, "tun_id=1037", "mod_vlan_vid:2,resubmit(,10)"),
         Flow(22, 1, "dl_vlan=2", "strip_vlan,set_tunnel:1037,output:vxlan-ac1f0003")]  # fmt: skip


def test_flows_equal_after_ovs_normalises_numbers_and_quotes():
    lines = [dumped(FLOWS[0]), dumped(FLOWS[1], match="tun_id=0x40d"),
             dumped(FLOWS[2], actions='strip_vlan,set_tunnel:0x40d,output:"vxlan-ac1f0003"')]  # fmt: skip
    assert drift.flows("br-tun", FLOWS, lines, COOKIE) == []


def test_a_deleted_flow_a_changed_one_and_an_extra_one_of_ours():
    lines = [dumped(FLOWS[1], actions="mod_vlan_vid:3,resubmit(,10)"), dumped(Flow(0, 9, "in_port=1", "drop"))]
    found = drift.flows("br-tun", FLOWS, lines, COOKIE)
    assert [(d.kind, d.object, d.expected, d.actual) for d in found] == [
        ("flow", "br-tun table=0,priority=65535,dl_vlan=4095", "actions=drop", "missing"),
        ("flow", "br-tun table=4,priority=1,tun_id=1037", "actions=mod_vlan_vid:2,resubmit(,10)",
         "actions=mod_vlan_vid:3,resubmit(,10)"),
        ("flow", "br-tun table=22,priority=1,dl_vlan=2", "actions=strip_vlan,set_tunnel:1037,output:vxlan-ac1f0003",
         "missing"),
        ("flow", "br-tun table=0,priority=9,in_port=1", "absent", "actions=drop"),
    ]  # fmt: skip


def test_flows_of_another_cookie_are_never_drift():
    lines = [dumped(f) for f in FLOWS] + [dumped(Flow(0, 100, "in_port=7", "drop"), cookie=FOREIGN),
                                          dumped(Flow(20, 1, "dl_vlan=2", "output:3"), cookie=0)]  # fmt: skip
    assert drift.flows("br-tun", FLOWS, lines, COOKIE) == []


def test_learn_actions_are_compared_by_presence():
    flow = Flow(10, 1, "", "learn(table=20,hard_timeout=300,NXM_OF_VLAN_TCI[0..11]),output:patch-int")
    line = dumped(flow, actions="learn(table=20,hard_timeout=300,priority=1,NXM_OF_VLAN_TCI[0..11],load:0->NXM_OF_VLAN_TCI[]),output:patch-int")
    assert drift.flows("br-tun", [flow], [line], COOKIE) == []


def port(name: str, bridge: str = "br-int", tag: int | None = None, other: dict | None = None,  # type: ignore[type-arg]
         itype: str = "", options: dict | None = None) -> PortInfo:  # type: ignore[type-arg]
    return PortInfo(name=name, bridge=bridge, tag=tag, port_other_config=other or {}, iface_type=itype,
                    iface_options=options or {}, iface_external_ids={}, ofport=1)  # fmt: skip


def test_ovs_ports_tag_other_config_tunnel_options_and_stale_tunnels():
    opts = {"remote_ip": "172.31.0.3", "local_ip": "172.31.0.2"}
    expected = [
        PortExpect("qvoaaa", "br-int", tag=1, other_config={"net_uuid": "n1", "segmentation_id": "100"}),
        PortExpect("vxlan-ac1f0003", "br-tun", iface_type="vxlan", options=opts, kind="tunnel_port"),
        PortExpect("patch-tun", "br-int", iface_type="patch", options={"peer": "patch-int"}),
    ]
    observed = [port("qvoaaa", tag=7, other={"net_uuid": "n1", "segmentation_id": "100"}),
                port("patch-tun", itype="patch", options={"peer": "patch-int"}),
                port("vxlan-ac1f0009", "br-tun", itype="vxlan"), port("foreign0", "br-foreign")]  # fmt: skip
    found = drift.ovs_ports(expected, observed, owned_extra=["vxlan-ac1f0009"])
    assert [(d.kind, d.object, d.expected, d.actual) for d in found] == [
        ("port_tag", "qvoaaa", "tag 1", "tag 7"),
        ("tunnel_port", "br-tun/vxlan-ac1f0003", "present", "missing"),
        ("tunnel_port", "br-tun/vxlan-ac1f0009", "absent", "present"),
    ]
    changed = [port("qvoaaa", tag=1, other={"net_uuid": "n1", "segmentation_id": "200"})]
    (d,) = drift.ovs_ports(expected[:1], changed)
    assert (d.kind, d.expected, d.actual) == ("port_tag", "other_config {segmentation_id=100}", "other_config {segmentation_id=200}")


def test_presence_reports_missing_and_stale_owned_names_only():
    found = drift.presence("namespace", ["p-qrouter-1", "p-qrouter-2"], ["p-qrouter-1", "p-qrouter-9", "mine"], "l3",
                           stale=["p-qrouter-9"])  # fmt: skip
    assert [(d.object, d.expected, d.actual) for d in found] == [("p-qrouter-2", "present", "missing"),
                                                                 ("p-qrouter-9", "absent", "present")]  # fmt: skip


RENDERED = """\tchain prerouting {
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tip daddr 203.0.113.5 dnat to 10.0.1.5
\t}
\tchain postrouting {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\tip saddr 10.0.1.5 oifname "qg-1" snat to 203.0.113.5
\t\toifname "qg-1" ct status & dnat == 0 snat to 203.0.113.2
\t}
"""
LISTED = """table ip neutrino-nat {
\tchain prerouting {
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tip daddr 203.0.113.5 dnat to 10.0.1.5
\t}
\tchain postrouting {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\tip saddr 10.0.1.5 oifname "qg-1" snat to 203.0.113.5
\t\toifname "qg-1" ct status ! dnat snat to 203.0.113.2
\t}
}
"""


def test_nft_table_compares_rules_per_chain():
    assert drift.nft_table("ns ip neutrino-nat", RENDERED, LISTED, "l3") == []
    flushed = "\n".join(ln for ln in LISTED.splitlines() if "nat to" not in ln)
    assert [(d.object, d.expected, d.actual) for d in drift.nft_table("t", RENDERED, flushed, "l3")] == [
        ("t chain postrouting", "2 rules", "0 rules"), ("t chain prerouting", "1 rules", "0 rules")]
    assert drift.nft_table("t", RENDERED, None, "l3") == [Drift("nft_table", "t", "present", "missing", "l3")]


def test_dnsmasq_process_and_files():
    files = {"host": "a\nb\n", "opts": "x\n"}
    assert drift.dnsmasq("n1", files, dict(files), True) == []
    found = drift.dnsmasq("n1", files, {"host": "a\n", "opts": None}, False)
    assert [(d.kind, d.object, d.actual) for d in found] == [
        ("dnsmasq", "dnsmasq for network n1", "not running"), ("dhcp_file", "n1/host", "different content"),
        ("dhcp_file", "n1/opts", "missing")]  # fmt: skip


def test_port_status_and_subset_and_sets():
    assert drift.port_status(["p1", "p2", "p3"], {"p1": "ACTIVE", "p2": "DOWN"}) == [
        Drift("port_status", "port p2", "ACTIVE", "DOWN", "api")]
    assert drift.subset("route", "ns", ["default via 1.1.1.1"], ["default via 1.1.1.1", "10.0.0.0/24"], "l3") == []
    (d,) = drift.subset("route", "ns", ["default via 1.1.1.1"], ["10.0.0.0/24"], "l3")
    assert d.actual == "missing default via 1.1.1.1"
    assert drift.sets("address", "ns/dev", ["10.0.0.2/24"], ["10.0.0.2/24"], "dhcp") == []
    assert drift.by_kind([d, d]) == {"route": 2}


def test_a_repair_replaces_only_our_cookies_flows_in_one_bundle():
    from neutrino.dataplane.host import ROOT
    from neutrino.dataplane.openflow import OpenFlow

    sent: list[tuple[list[str], str | None]] = []
    of = OpenFlow(ROOT)
    of._ofctl = lambda op, bridge, args, stdin=None: sent.append((list(args), stdin)) or ""  # type: ignore[method-assign]
    of.replace("br-int", FLOWS[:1])
    of.forget(keep_foreign=True)
    of.apply("br-int", FLOWS[:1])
    of.forget()
    of.apply("br-int", FLOWS[:1])
    assert [args[:2] for args, _ in sent] == [["--bundle", "replace-flows"], ["--bundle", "add-flows"],
                                              ["--bundle", "replace-flows"]]  # fmt: skip
    assert sent[1][1] == f"delete cookie={COOKIE:#x}/-1\nadd {FLOWS[0].render()}\n"


def test_agent_settings_audit_interval_and_repair(tmp_path):
    from neutrino.agent.config import load_agent_config

    cfg = load_agent_config(host="h1")
    assert (cfg.audit_interval, cfg.audit_repair) == (60.0, True)
    path = tmp_path / "agent.toml"
    path.write_text('[agent]\nhost = "h1"\naudit_interval = 0\naudit_repair = false\n')
    cfg = load_agent_config(path)
    assert (cfg.audit_interval, cfg.audit_repair) == (0, False)
    for bad in ("audit_interval = -1", 'audit_interval = "x"', 'audit_repair = "yes"'):
        path.write_text(f'[agent]\nhost = "h1"\n{bad}\n')
        with pytest.raises(ValueError, match="audit_"):
            load_agent_config(path)


def test_the_agents_openflow13_spellings_match_an_openflow10_dump() -> None:
    from neutrino.tools.audit.drift import norm_actions

    pairs = [
        ("push_vlan:0x8100,set_field:4108->vlan_vid,resubmit(,60)", "mod_vlan_vid:12,resubmit(,60)"),
        ("set_field:4196->vlan_vid,NORMAL", "mod_vlan_vid:100,NORMAL"),
        ("pop_vlan,set_field:0x3e8->tun_id,output:2", "strip_vlan,load:0x3e8->NXM_NX_TUN_ID[],output:2"),
        ("set_field:fa:16:3e:00:00:05->eth_src,IN_PORT", "mod_dl_src:fa:16:3e:00:00:05,IN_PORT"),
    ]
    for written, dumped in pairs:
        assert norm_actions(written) == norm_actions(dumped)
    assert norm_actions("set_field:4196->vlan_vid") != norm_actions("mod_vlan_vid:101")
