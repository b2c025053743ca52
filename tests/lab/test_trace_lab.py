"""``neutrino trace`` in the lab, checked against the real packet: for each case of the table,
the verdict and the VIDs, VNI, tunnel endpoints and NAT addresses the trace gives are compared
with what a capture on the wire (or the receiving end) shows for the same traffic.

One cloud for the whole module (the demo's: a VLAN and a VXLAN network, a router on the network
node with its gateway on the outside's network, a floating IP, a group opening TCP 22 and ICMP).
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from neutrino.dataplane import exec as programs
from neutrino.dataplane.ovsdb import Ovsdb
from neutrino.lab import cloud, demo, nodes, probes
from tests.lab.cloud_support import cloud_lab, ip_of, poll
from tests.lab.topology_support import png_size, screenshot, svg_node_ids

pytestmark = pytest.mark.root

VID = 100


@pytest.fixture(scope="module")
def cl(lab_root):
    with cloud_lab(lab_root) as c:
        api, lab = c.api, c.lab
        ext = demo.public_network(api, lab, last_address=99)
        vlan = c.network("vlan-net", "10.0.1.0/24", **{"provider:network_type": "vlan",
                         "provider:physical_network": "physnet1", "provider:segmentation_id": VID})  # fmt: skip
        vx = c.network("vxlan-net", "10.0.2.0/24", **{"provider:network_type": "vxlan"})
        router = api.request("POST", "routers", {"router": {"name": "r1", "external_gateway_info": {"network_id": ext["id"]}}})["router"]
        for net in (vlan, vx):
            subnet = api.request("GET", f"subnets?network_id={net['id']}")["subnets"][0]
            api.request("PUT", f"routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]})
        sg = api.request("POST", "security-groups", {"security_group": {"name": "ssh"}})["security_group"]
        for rule in ({"protocol": "tcp", "port_range_min": 22, "port_range_max": 22}, {"protocol": "icmp"}):
            api.request("POST", "security-group-rules", {"security_group_rule": {
                "security_group_id": sg["id"], "direction": "ingress", "ethertype": "IPv4", **rule}})  # fmt: skip
        groups = ("default", sg["id"])
        c.vms = {name: c.vm(name, net["id"], host, security_groups=groups)  # type: ignore[attr-defined]
                 for name, net, host in (("vm1", vlan, "compute1"), ("vm2", vlan, "compute2"), ("vm5", vlan, "compute1"),
                                         ("vm3", vx, "compute1"), ("vm4", vx, "compute2"))}  # fmt: skip
        c.fip = api.request("POST", "floatingips", {"floatingip": {  # type: ignore[attr-defined]
            "floating_network_id": ext["id"], "port_id": c.vms["vm1"].port_id}})["floatingip"]["floating_ip_address"]  # type: ignore[attr-defined]
        c.vni = api.request("GET", f"networks/{vx['id']}")["network"]["provider:segmentation_id"]  # type: ignore[attr-defined]
        yield c


def trace(cl: Any, frm: str, to: str, **params: Any) -> dict[str, Any]:
    query = urllib.parse.urlencode({"from": frm, "to": to, **params})
    return cl.api.request("GET", f"trace?{query}")["trace"]  # type: ignore[no-any-return]


def switch(cl: Any, purpose: str) -> str:
    return next(s.name for s in cl.lab.switches if s.purpose.startswith(purpose))


def outside(cl: Any) -> tuple[str, str]:
    return cl.lab.outside.netns, cl.lab.outside.address.split("/")[0]


def _vids(lines: list[str]) -> set[int]:
    return {int(w[i + 1]) for w in (ln.replace(",", " ").split() for ln in lines)
            for i in range(len(w) - 1) if w[i] == "vlan" and w[i + 1].isdigit()}  # fmt: skip


def packets(cap: probes.Capture) -> list[str]:
    return [ln for ln in cap.lines if ln.strip()]


def wire(leg: dict[str, Any]) -> dict[str, Any]:
    assert "wire" in leg, leg
    return leg["wire"]  # type: ignore[no-any-return]


def case_same_host(cl: Any) -> None:
    v1, v5 = cl.vms["vm1"], cl.vms["vm5"]
    doc = trace(cl, "vm1", "vm5", protocol="tcp", port=22)
    (leg,) = doc["path"]
    assert doc["verdict"] == "delivered" and "wire" not in leg and v5.devices["qvo"] in leg["egress_outputs"]
    with probes.Capture(switch(cl, "physnet"), "tcp port 22", count=5) as cap:
        sent = probes.transfer(v1.netns, v5.netns, ip_of(v5), port=22, size=4096)
    assert sent.ok and not packets(cap), cap.lines  # delivered, never on the wire


def case_vlan(cl: Any) -> None:
    v1, v2 = cl.vms["vm1"], cl.vms["vm2"]
    doc = trace(cl, "vm1", ip_of(v2), protocol="tcp", port=22)
    (leg,) = doc["path"]
    tag = Ovsdb(cl.lab.host("compute1").context).port(v1.devices["qvo"]).tag
    assert doc["verdict"] == "delivered" and not doc["disagreements"] and leg["local_vid_from"] == tag
    with probes.Capture(switch(cl, "physnet"), "vlan and tcp port 22", count=4) as cap:
        assert probes.transfer(v1.netns, v2.netns, ip_of(v2), port=22, size=4096).ok
    assert _vids(cap.lines) == {wire(leg)["vid"]} == {VID}


def case_vxlan(cl: Any) -> None:
    v3, v4 = cl.vms["vm3"], cl.vms["vm4"]
    doc = trace(cl, "vm3", "vm4", protocol="udp", port=5001)
    (leg,) = doc["path"]
    assert doc["verdict"] == "delivered" and not doc["disagreements"] and wire(leg)["vni"] == cl.vni
    src, dst = leg["tunnel"]["src"], leg["tunnel"]["dst"]
    # only this leg's tunnel: other hosts' floods (a router's ARP, DHCP) cross the same wire
    with probes.Capture(switch(cl, "tunnel"), f"udp port 4789 and src host {src} and dst host {dst}", count=2) as cap:
        assert probes.transfer(v3.netns, v4.netns, ip_of(v4), port=5001, udp=True).ok
    assert any(f"vni {cl.vni}" in ln and f"{src}." in ln and f"> {dst}.4789" in ln for ln in cap.lines), cap.lines


def case_routed(cl: Any) -> None:
    v1, v4 = cl.vms["vm1"], cl.vms["vm4"]
    doc = trace(cl, "vm1", "vm4", protocol="tcp", port=22)
    vlan, router, vx = doc["path"]
    assert doc["verdict"] == "delivered" and not doc["disagreements"], doc["disagreements"]
    assert router["host"] == "network" and router["nat"] is None and router["route"].split()[0] == ip_of(v4)
    tunnel = f"udp port 4789 and src host {vx['tunnel']['src']} and dst host {vx['tunnel']['dst']}"  # this leg only
    with probes.Capture(switch(cl, "physnet"), "vlan and tcp port 22", count=2) as vcap, \
         probes.Capture(switch(cl, "tunnel"), tunnel, count=2) as tcap:  # fmt: skip
        assert probes.transfer(v1.netns, v4.netns, ip_of(v4), port=22, size=4096).ok
    assert wire(vlan)["vid"] in _vids(vcap.lines)
    outer = f"{vx['tunnel']['src']}."
    assert any(f"vni {wire(vx)['vni']}" in ln and outer in ln and f"> {vx['tunnel']['dst']}.4789" in ln
               for ln in tcap.lines), tcap.lines  # fmt: skip


def case_snat(cl: Any) -> None:
    ns, addr = outside(cl)
    doc = trace(cl, "vm2", "outside", protocol="tcp", port=5002)
    router = doc["path"][1]
    assert doc["verdict"] == "delivered" and router["nat"].startswith("SNAT") and router["nat_rule"]
    seen = probes.transfer(cl.vms["vm2"].netns, ns, addr, port=5002, size=4096)
    assert seen.ok and seen.peer == router["packet_out"]["src_ip"] == doc["path"][2]["packet"]["src_ip"]


def case_floating_ip(cl: Any) -> None:
    ns, addr = outside(cl)
    v1 = cl.vms["vm1"]
    doc = trace(cl, "outside", cl.fip, protocol="tcp", port=22)
    router = doc["path"][1]
    assert doc["verdict"] == "delivered" and not doc["disagreements"]
    assert router["nat"].startswith(f"DNAT {cl.fip} -> {ip_of(v1)}") and router["nat_rule"]
    seen = probes.transfer(ns, v1.netns, cl.fip, port=22, size=4096)
    assert seen.ok and seen.peer == addr == doc["path"][2]["packet"]["src_ip"]


def case_security_group(cl: Any) -> None:
    ns, _addr = outside(cl)
    doc = trace(cl, "outside", cl.fip, protocol="tcp", port=23)
    assert doc["verdict"] == "dropped" and doc["dropped_at"] == "vm1 on compute1"
    assert "security group ingress: no ingress rule" in doc["reason"]
    assert not probes.transfer(ns, cl.vms["vm1"].netns, cl.fip, port=23, size=4096, timeout=2).ok


def case_anti_spoofing(cl: Any) -> None:
    v1, v2 = cl.vms["vm1"], cl.vms["vm2"]
    vlan_net = cl.api.request("GET", f"ports/{v1.port_id}")["port"]["network_id"]
    spoofed = cl.free_address(vlan_net, "10.0.1.0/24")  # no instance's (random) address
    doc = trace(cl, "vm1", "vm2", protocol="icmp", source_ip=spoofed)
    assert doc["verdict"] == "dropped" and doc["reason"].startswith(f"anti-spoofing: {spoofed}")
    programs.run(["ip", "addr", "add", f"{spoofed}/32", "dev", "eth0"], netns=v1.netns)
    try:
        with probes.Capture(v2.devices["tap"], "icmp", netns=cl.lab.host("compute2").context.netns, count=2) as cap:
            done = programs.run(["ping", "-I", spoofed, "-c", "2", "-i", "0.2", "-W", "1", ip_of(v2)],
                                netns=v1.netns, check=False)  # fmt: skip
        assert done.returncode != 0 and not packets(cap), cap.lines
    finally:
        programs.run(["ip", "addr", "del", f"{spoofed}/32", "dev", "eth0"], netns=v1.netns)


def case_admin_down(cl: Any) -> None:
    v1, v2 = cl.vms["vm1"], cl.vms["vm2"]
    ovsdb = Ovsdb(cl.lab.host("compute2").context)
    cl.api.request("PUT", f"ports/{v2.port_id}", {"port": {"admin_state_up": False}})
    try:
        poll(lambda: ovsdb.port(v2.devices["qvo"]).tag, lambda tag: tag == 4095)
        doc = trace(cl, "vm1", "vm2", protocol="tcp", port=22)
        assert doc["verdict"] == "dropped" and "administratively down" in doc["reason"] and not doc["disagreements"]
        with probes.Capture(v2.devices["tap"], "tcp port 22", netns=cl.lab.host("compute2").context.netns, count=2) as cap:
            assert not probes.transfer(v1.netns, v2.netns, ip_of(v2), port=22, size=4096, timeout=2).ok
        assert not packets(cap), cap.lines
    finally:
        cl.api.request("PUT", f"ports/{v2.port_id}", {"port": {"admin_state_up": True}})
        poll(lambda: ovsdb.port(v2.devices["qvo"]).tag, lambda tag: tag not in (None, 4095))


CASES = {
    "same network, same host": case_same_host,
    "same network across hosts, VLAN": case_vlan,
    "same network across hosts, VXLAN": case_vxlan,
    "routed between networks": case_routed,
    "SNAT to the outside": case_snat,
    "floating IP from the outside": case_floating_ip,
    "blocked by a security group": case_security_group,
    "blocked by anti-spoofing": case_anti_spoofing,
    "a port admin-down": case_admin_down,
}


@pytest.mark.parametrize("case", list(CASES))
def test_trace_matches_the_real_packet(cl, case):
    started = time.monotonic()
    CASES[case](cl)
    assert time.monotonic() - started < 60


def test_bad_input_is_one_line(cl):
    from neutrino.lab.api import ApiError

    for frm, to, words in (("vm1", "nosuch", "no bound port"), ("vm1", "192.0.2.77", "on no network"),
                           ("outside", "vm2", "only through a floating IP")):  # fmt: skip
        with pytest.raises(ApiError, match=words):
            trace(cl, frm, to)


def test_topology_page_in_a_browser(cl, tmp_path):
    """The topology page of this cloud with a routed trace on it (docs/topology.md): fetched over
    HTTP with the admin's token, saved by ``neutrino topology --html``, shot by headless Chromium."""
    url, token = cloud.admin_token(cl.lab)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{url}/topology", timeout=30)
    assert refused.value.code == 401
    with urllib.request.urlopen(urllib.request.Request(f"{url}/topology", headers={"X-Auth-Token": token}), timeout=60) as r:
        served = r.read().decode()
    assert r.status == 200 and served.count("<svg") == 2
    page = tmp_path / "topology.html"
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(nodes.clouds_yaml(cl.lab)), "OS_CLOUD": "neutrino"}
    done = subprocess.run([sys.executable, "-m", "neutrino.cli.main", "topology", "--html", str(page), "--trace-from", "vm1",
                           "--trace-to", "vm4", "--proto", "tcp", "--dport", "22"],
                          capture_output=True, text=True, timeout=120, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = page.read_text()
    ids, lit = svg_node_ids(text)
    ports = {n: cl.vms[n].port_id for n in ("vm1", "vm4")}
    names = html.unescape(text)
    for word in ("vlan-net", "vxlan-net", "r1", "compute1", "compute2", "network", "br-int", "br-tun"):
        assert word in names, word
    assert {f"cluster_host_{h}" for h in ("compute1", "compute2", "network")} <= set(re.findall(r'<g id="([^"]+)" class="cluster"', text))
    assert {f"port-{ports['vm1']}", f"port-{ports['vm4']}", f"compute1/vif-{ports['vm1']}", f"compute2/vif-{ports['vm4']}",
            "compute2/br-tun"} <= lit, lit  # fmt: skip
    assert any(i.startswith("router-") for i in lit) and any("/qrouter-" in i for i in lit)
    assert 'class="verdict-delivered"' in text
    png = tmp_path / "topology.png"
    screenshot(page, png, tmp_path / "chromium")
    width, height = png_size(png)
    assert (width, height) == (1400, 2200) and png.stat().st_size > 50_000, (width, height, png.stat().st_size)
    if os.environ.get("NEUTRINO_TOPOLOGY_SCREENSHOT"):  # to refresh docs/topology.png
        shutil.copy(png, os.environ["NEUTRINO_TOPOLOGY_SCREENSHOT"])
