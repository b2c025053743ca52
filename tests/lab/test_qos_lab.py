"""QoS in the lab: a 50 Mb/s bandwidth limit holds under iperf3 (within 10%), and a DSCP mark is
on the wire (docs/dataplane.md, "QoS")."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from neutrino.dataplane import exec as programs
from neutrino.dataplane.openflow import parse_meters
from neutrino.lab import probes
from tests.lab.cloud_support import cloud_lab, ip_of

pytestmark = pytest.mark.root

PHYSNET = {"provider:network_type": "vlan", "provider:physical_network": "physnet1"}
LIMIT_KBPS = 50_000
INGRESS_KBPS = 30_000


@pytest.fixture(scope="module")
def cl(lab_root):
    with cloud_lab(lab_root, server_settings={"service_plugins": ["router", "trunk", "qos"]}) as c:
        yield c


def _iperf(src, dst, *, seconds: int = 5, reverse: bool = False, udp_mbps: int = 0) -> float:  # type: ignore[no-untyped-def]
    """Mbit/s received, the first second (the burst) left out. ``udp_mbps``: offer that much UDP
    (1400-byte datagrams) instead of one TCP stream: what a policer lets through is then its
    rate, where TCP backs off below it on every drop."""
    server = subprocess.Popen(programs.netns_argv(["iperf3", "-s", "-1", "-p", "5201"], dst.netns),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        time.sleep(0.5)
        argv = ["iperf3", "-c", ip_of(dst), "-p", "5201", "-t", str(seconds), "-O", "1", "-J", *(["-R"] if reverse else []),
                *(["-u", "-b", f"{udp_mbps}M", "-l", "1400"] if udp_mbps else [])]  # fmt: skip
        done = programs.run(argv, netns=src.netns, check=False, timeout=seconds + 15)
        end = json.loads(done.stdout)["end"]
        if "sum_received" in end:
            return float(end["sum_received"]["bits_per_second"]) / 1e6
        return float(end["sum"]["bits_per_second"]) * (1 - float(end["sum"]["lost_percent"]) / 100) / 1e6
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(timeout=5)


def _until(check, timeout=15.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (got := check()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return got


def test_bandwidth_limit_and_dscp(cl):
    net = cl.network("qos-net", "10.64.0.0/24", **PHYSNET, **{"provider:segmentation_id": 400})
    a = cl.vm("qa", net["id"], "compute1")
    b = cl.vm("qb", net["id"], "compute2")
    free = _iperf(a, b)
    pol = cl.api.request("POST", "qos/policies", {"policy": {"name": "limit"}})["policy"]
    base = f"qos/policies/{pol['id']}"
    cl.api.request("POST", f"{base}/bandwidth_limit_rules", {"bandwidth_limit_rule": {"max_kbps": LIMIT_KBPS}})
    cl.api.request("POST", f"{base}/dscp_marking_rules", {"dscp_marking_rule": {"dscp_mark": 46}})
    cl.api.request("PUT", f"ports/{a.port_id}", {"port": {"qos_policy_id": pol["id"]}})
    sw = cl.lab.switches[0].name

    def marked() -> bool:
        with probes.Capture(sw, "vlan 400 and icmp", count=1, verbose=True) as cap:
            probes.ping(a.netns, ip_of(b), count=1)
        return any("tos 0xb8" in line for line in cap.lines)

    # the agent applies the policy asynchronously: the DSCP mark says it has
    assert _until(marked), "no DSCP 46 (tos 0xb8) on the wire"
    limited = _iperf(a, b, udp_mbps=2 * LIMIT_KBPS // 1000)
    tcp = _iperf(a, b)
    print(f"iperf3 a→b: {free:.1f} Mbit/s TCP without QoS; with a {LIMIT_KBPS // 1000} Mbit/s limit "
          f"{limited:.1f} Mbit/s of {2 * LIMIT_KBPS // 1000} offered UDP, {tcp:.1f} Mbit/s TCP")
    assert tcp <= 1.1 * LIMIT_KBPS / 1000, tcp
    assert abs(limited - LIMIT_KBPS / 1000) <= 0.1 * LIMIT_KBPS / 1000, (free, limited)
    with probes.Capture(sw, f"vlan 400 and tcp and src host {ip_of(a)}", count=3, verbose=True) as cap:
        assert probes.transfer(a.netns, b.netns, ip_of(b), size=64 << 10).ok
    headers = [line for line in cap.lines if "tos 0x" in line]
    assert headers and all("tos 0xb8" in line for line in headers), cap.lines
    # ingress (to the VM): a second meter, on the traffic b sends to a
    cl.api.request("POST", f"{base}/bandwidth_limit_rules",
                   {"bandwidth_limit_rule": {"max_kbps": INGRESS_KBPS, "direction": "ingress"}})
    host = cl.lab.host("compute1").context
    dump = ["ovs-ofctl", "-O", "OpenFlow13", "dump-meters", "br-int"]
    assert _until(lambda: INGRESS_KBPS in {rate for rate, _ in parse_meters(
        programs.run(dump, env=host.ovs_env).stdout).values()}), "no ingress meter"  # fmt: skip
    inbound = _iperf(a, b, reverse=True, udp_mbps=2 * INGRESS_KBPS // 1000)
    print(f"iperf3 b→a: {inbound:.1f} Mbit/s with a {INGRESS_KBPS // 1000} Mbit/s ingress limit")
    assert abs(inbound - INGRESS_KBPS / 1000) <= 0.1 * INGRESS_KBPS / 1000, inbound
    # the policy removed: no limit, no mark
    cl.api.request("PUT", f"ports/{a.port_id}", {"port": {"qos_policy_id": None}})
    assert _until(lambda: not marked())
    assert _iperf(a, b) > 1.3 * LIMIT_KBPS / 1000 or free < 1.3 * LIMIT_KBPS / 1000
