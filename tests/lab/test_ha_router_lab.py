"""An HA router survives its active network node (examples/ha.yaml): a TCP stream from an
instance to the outside keeps going through the other node, the API names the new active
agent, and the floating IP answers from the outside again.

The lab runs as ``lab up`` runs it (server and agents as processes). The active node dies as a
real one does: its agent stopped for good, its keepalived killed by pid (SIGKILL: no goodbye
advert), and every wire of the host cut at the switch. The standby's keepalived misses three
adverts (every 0.5 s in this lab), takes the addresses and sends gratuitous ARPs; its agent
reports the state and the server binds the router's ports there. The longest silence the TCP
receiver saw is printed (the failover gap) and must stay under 5 s. Before that, the standby's
keepalived is killed and its agent starts it again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from neutrino.dataplane import daemons
from neutrino.dataplane import exec as programs
from neutrino.lab import demo, faults, instances, probes, topology
from tests.lab.cloud_support import ProcessCloud, ip_of, poll, process_lab, wait_established

pytestmark = pytest.mark.root
LAB_FILE = Path(__file__).parents[2] / "examples" / "ha.yaml"
SERVER = {"agent_down_time": 4}
AGENTS = {"report_interval": 1.0}
HANG_GUARD = 60.0
STREAM_S = 20.0
PORT = 5003
INTERFACES = "network:ha_router_replicated_interface"


def _states(cl: ProcessCloud, router_id: str) -> dict[str, str]:
    agents = cl.api.request("GET", f"routers/{router_id}/l3-agents")["agents"]
    return {a["host"]: a.get("ha_state", "") for a in agents}


def _keepalived_pids(cl: ProcessCloud, host: str, router_id: str) -> list[int]:
    """keepalived's pids (parent and VRRP child) from the pidfiles the agent gave it."""
    conf_dir = cl.lab.state_dir / host / "ha_confs" / router_id
    pids = [daemons.read_pid(conf_dir / name) for name in ("keepalived.pid", "keepalived-vrrp.pid")]
    return [p for p in pids if p is not None and daemons.alive(p, str(conf_dir / "keepalived.conf"))]


def _build(cl: ProcessCloud) -> dict[str, Any]:
    api = cl.api
    ext = demo.public_network(api, cl.lab, last_address=99)
    net = api.request("POST", "networks", {"network": {"name": "ha-net", "provider:network_type": "vxlan"}})["network"]
    sub = api.request("POST", "subnets", {"subnet": {
        "network_id": net["id"], "cidr": "10.0.5.0/24", "ip_version": 4}})["subnet"]  # fmt: skip
    router = api.request("POST", "routers", {"router": {  # HA by the lab's l3_ha
        "name": "ha-router", "external_gateway_info": {"network_id": ext["id"]}}})["router"]  # fmt: skip
    api.request("PUT", f"routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]})
    sg = api.request("POST", "security-groups", {"security_group": {"name": "tcp"}})["security_group"]
    api.request("POST", "security-group-rules", {"security_group_rule": {
        "security_group_id": sg["id"], "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
        "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"}})  # fmt: skip
    return {"ext": ext, "net": net, "router": router, "sg": sg}


def test_ha_router_fails_over_within_seconds(lab_root):
    with process_lab(lab_root, topology.load(LAB_FILE), server_settings=SERVER, agent_settings=AGENTS) as cl:
        _failover(cl)


def _failover(cl: ProcessCloud) -> None:
    objs = _build(cl)
    router = objs["router"]["id"]
    admin_view = cl.api.request("GET", f"routers/{router}")["router"]
    assert admin_view["ha"] is True, admin_view
    states = poll(lambda: _states(cl, router), lambda s: sorted(s.values()) == ["active", "standby"], timeout=HANG_GUARD)
    assert sorted(states.values()) == ["active", "standby"], states
    [victim] = [h for h, s in states.items() if s == "active"]
    [survivor] = [h for h, s in states.items() if s == "standby"]
    # supervision: the standby's keepalived killed is started again by its agent (the active stays)
    old = _keepalived_pids(cl, survivor, router)
    assert len(old) == 2, old
    for pid in old:
        os.kill(pid, signal.SIGKILL)
    again = poll(lambda: _keepalived_pids(cl, survivor, router), lambda p: len(p) == 2 and not set(p) & set(old),
                 timeout=HANG_GUARD)  # fmt: skip
    assert len(again) == 2 and not set(again) & set(old), (old, again)
    vm = instances.create_from_api(cl.lab, "ha1", network=objs["net"]["id"], host="compute1",
                                   security_groups=("default", objs["sg"]["id"]))  # fmt: skip
    cl.wait_active([vm.port_id])
    fip = cl.api.request("POST", "floatingips", {"floatingip": {
        "floating_network_id": objs["ext"]["id"], "port_id": vm.port_id}})["floatingip"]["floating_ip_address"]  # fmt: skip
    outside = cl.lab.outside
    assert outside is not None
    outside_ip = outside.address.split("/")[0]

    def dnat() -> probes.Check:
        return probes.transfer(outside.netns, vm.netns, fip, port=22, timeout=3)

    inbound = poll(dnat, lambda c: c.ok, timeout=HANG_GUARD)
    assert inbound.ok and inbound.peer == outside_ip, inbound
    ports = cl.api.request("GET", f"ports?device_id={router}&device_owner={INTERFACES}")["ports"]
    assert [p["binding:host_id"] for p in ports] == [victim] and ports[0]["status"] == "ACTIVE", ports

    probe = [sys.executable, "-m", "neutrino.tools.tcpcheck"]
    server = subprocess.Popen(programs.netns_argv([*probe, "serve", "--port", str(PORT), "--timeout", "90"], outside.netns),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    sender = None
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        sender = subprocess.Popen(programs.netns_argv([*probe, "send", outside_ip, "--port", str(PORT), "--timeout", "90",
                                                       "--duration", str(STREAM_S)], vm.netns),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        wait_established(vm.netns, outside_ip, PORT)
        time.sleep(2.0)  # the stream runs through the active node

        killed = time.monotonic()
        keepalived = _keepalived_pids(cl, victim, router)
        assert len(keepalived) == 2, f"keepalived of {router} on {victim}: {keepalived}"
        cl.stop_agent_for_good(victim)
        for pid in keepalived:
            os.kill(pid, signal.SIGKILL)
        cut = faults.cut_wires(cl.lab, victim)

        moved = poll(lambda: _states(cl, router), lambda s: s.get(survivor) == "active", timeout=HANG_GUARD)
        assert moved.get(survivor) == "active", moved
        api_s = time.monotonic() - killed
        out, err = sender.communicate(timeout=STREAM_S + 2 * HANG_GUARD)
        assert sender.returncode == 0, f"the stream broke: {out} {err}"
        rest, _ = server.communicate(timeout=10)
        gap = next(float(line.split()[1]) for line in rest.splitlines() if line.startswith("gap "))
        print(f"\nHA router failover {victim} -> {survivor} (wires cut: {', '.join(cut)}): "
              f"TCP stream gap {gap:.2f} s; API shows {survivor} active {api_s:.1f} s after the kill")  # fmt: skip
        assert gap < 5.0, f"the stream stalled {gap:.2f} s"

        ports = poll(lambda: cl.api.request("GET", f"ports?device_id={router}&device_owner={INTERFACES}")["ports"],
                     lambda ps: [p["binding:host_id"] for p in ps] == [survivor], timeout=HANG_GUARD)  # fmt: skip
        assert [p["binding:host_id"] for p in ports] == [survivor], ports
        back = poll(dnat, lambda c: c.ok, timeout=HANG_GUARD)
        assert back.ok and back.peer == outside_ip, f"floating IP {fip} after the failover: {back}"
        assert ip_of(vm)
    finally:
        for proc in (sender, server):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)
