"""A network node dies for good: its agents are marked dead, its DHCP networks and its router
move to the other network node, and the instances keep their DHCP renewals and north-south
traffic (examples/two-network-nodes.yaml).

The lab runs as ``lab up`` runs it: the server on the controller, one agent process per host.
The node dies as a real one does: its agent process is stopped for good and its dataplane goes
with it (every underlay wire cut at the switch), so its qrouter and dnsmasq cannot answer for
the addresses the survivor takes over. The server runs with a short ``agent_down_time`` and
agents report every second, so failover starts within seconds; the times from the kill to
each step are printed, never asserted. Traffic is TCP with a verified digest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from neutrino.lab import demo, faults, instances, nodes, probes, topology
from neutrino.lab.dhcp_client import DhcpClient
from tests.lab.cloud_support import ProcessCloud, ip_of, poll, process_lab

pytestmark = pytest.mark.root
T = TypeVar("T")
LAB_FILE = Path(__file__).parents[2] / "examples" / "two-network-nodes.yaml"
DOWN_TIME = 4
"""agent_down_time (s): dead after 4 s of silence, work moved after twice that (Neutron's rule)."""
SERVER = {"agent_down_time": DOWN_TIME, "dhcp_agents_per_network": 1, "allow_automatic_l3agent_failover": True,
          "network_auto_schedule": False}
"""No automatic placement of networks: the admin puts both on the node that will die (with it on,
an agent's report could place a network again in the instant between the admin's removal and
addition). Failover reschedules them all the same."""
AGENTS = {"report_interval": 1.0}
HANG_GUARD = 90.0
"""Not a timing assertion: only a bound that tells a hang from a slow machine."""



def _poll(fn: Callable[[], T], done: Callable[[T], bool], timeout: float = HANG_GUARD, every: float = 0.25) -> T:
    return poll(fn, done, timeout, every)


def _agents(cl: ProcessCloud, host: str) -> list[dict[str, Any]]:
    return cl.api.request("GET", f"agents?host={host}")["agents"]  # type: ignore[no-any-return]


def _agent_id(cl: ProcessCloud, host: str, agent_type: str) -> str:
    return next(a["id"] for a in _agents(cl, host) if a["agent_type"] == agent_type)


def _dhcp_hosts(cl: ProcessCloud, network_id: str) -> list[str]:
    return sorted(a["host"] for a in cl.api.request("GET", f"networks/{network_id}/dhcp-agents")["agents"])


def _l3_hosts(cl: ProcessCloud, router_id: str) -> list[str]:
    return sorted(a["host"] for a in cl.api.request("GET", f"routers/{router_id}/l3-agents")["agents"])


def _host_dhcp(cl: ProcessCloud, network_id: str, host: str) -> None:
    """Put the network's DHCP on ``host`` alone, through the admin API (its port moves along)."""
    for other in _dhcp_hosts(cl, network_id):
        if other != host:
            cl.api.request("DELETE", f"agents/{_agent_id(cl, other, 'DHCP agent')}/dhcp-networks/{network_id}")
    if host not in _dhcp_hosts(cl, network_id):
        cl.api.request("POST", f"agents/{_agent_id(cl, host, 'DHCP agent')}/dhcp-networks", {"network_id": network_id})


def _dhcp_server(cl: ProcessCloud, network_id: str) -> tuple[str, str]:
    """(address, MAC) of the network's DHCP port."""
    ports = cl.api.request("GET", f"ports?network_id={network_id}&device_owner=network:dhcp")["ports"]
    assert len(ports) == 1, [(p["id"], p["device_id"], p["binding:host_id"], p["created_at"]) for p in ports]
    return ports[0]["fixed_ips"][0]["ip_address"], ports[0]["mac_address"]


def _openstack(cl: ProcessCloud, *args: str) -> Any:
    """The stock openstack CLI against the lab's server, JSON output."""
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(nodes.clouds_yaml(cl.lab)), "OS_CLOUD": "neutrino"}
    done = subprocess.run([str(Path(sys.executable).parent / "openstack"), *args, "-f", "json"],
                          capture_output=True, text=True, timeout=60, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _vm(cl: ProcessCloud, name: str, network_id: str, *groups: str) -> instances.Instance:
    vm = instances.create_from_api(cl.lab, name, network=network_id, host="compute1", security_groups=("default", *groups))
    cl.wait_active([vm.port_id])
    return vm


def test_network_node_dies_its_networks_and_router_move(lab_root):
    with process_lab(lab_root, topology.load(LAB_FILE), server_settings=SERVER, agent_settings=AGENTS) as cl:
        _network_node_dies(cl)


def _network_node_dies(cl: ProcessCloud) -> None:
    objs = demo._build(cl.api, cl.lab)
    router = objs["router"]["id"]
    [victim] = _poll(lambda: _l3_hosts(cl, router), bool, timeout=20)
    [survivor] = [h.name for h in cl.lab.hosts if "network" in h.roles and h.name != victim]
    networks = {"vlan": objs["vlan"]["id"], "vxlan": objs["vxlan"]["id"]}
    for network_id in networks.values():
        _host_dhcp(cl, network_id, victim)  # both on the node that will die
    va = _vm(cl, "fa", networks["vlan"], objs["sg"]["id"])
    vb = _vm(cl, "fb", networks["vxlan"])
    servers = {k: _dhcp_server(cl, n) for k, n in networks.items()}
    fip = cl.api.request("POST", "floatingips", {"floatingip": {
        "floating_network_id": objs["ext"]["id"], "port_id": va.port_id}})["floatingip"]["floating_ip_address"]  # fmt: skip
    outside = cl.lab.outside
    assert outside is not None
    outside_ip = outside.address.split("/")[0]
    gw_ip = demo.objs_gateway_ip(cl.api, router)

    def snat() -> probes.Check:
        return probes.transfer(vb.netns, outside.netns, outside_ip, timeout=3)

    def dnat() -> probes.Check:
        return probes.transfer(outside.netns, va.netns, fip, port=22, timeout=3)

    before = _poll(snat, lambda c: c.ok, timeout=20)
    assert before.ok and before.peer == gw_ip, before
    inbound = _poll(dnat, lambda c: c.ok, timeout=20)
    assert inbound.ok and inbound.peer == outside_ip, inbound
    clients = {"vlan": DhcpClient(cl.lab, va.name), "vxlan": DhcpClient(cl.lab, vb.name)}
    try:
        for kind, client in clients.items():
            bound = client.start()
            assert bound.ip == ip_of(va if kind == "vlan" else vb), bound

        killed = time.monotonic()
        cl.stop_agent_for_good(victim)
        cut = faults.cut_wires(cl.lab, victim)
        times: dict[str, float] = {}

        def since() -> float:
            return round(time.monotonic() - killed, 1)

        dead = _poll(lambda: _agents(cl, victim), lambda agents: agents and not any(a["alive"] for a in agents))
        assert dead and not any(a["alive"] for a in dead), [(a["agent_type"], a["alive"]) for a in dead]
        times["agents dead in the API"] = since()
        assert all(a["alive"] for a in _agents(cl, survivor))
        listed = _openstack(cl, "network", "agent", "list", "--host", victim)
        assert listed and not any(row["Alive"] for row in listed), listed

        moved = _poll(lambda: _l3_hosts(cl, router), lambda hosts: hosts == [survivor])
        assert moved == [survivor], f"router {router} still on {moved}"
        times["router on the survivor"] = since()
        for kind, network_id in networks.items():
            hosts = _poll(lambda n=network_id: _dhcp_hosts(cl, n), lambda hosts: hosts == [survivor])
            assert hosts == [survivor], f"{kind} network's DHCP on {hosts}"
        times["DHCP networks on the survivor"] = since()

        after = _poll(snat, lambda c: c.ok)
        assert after.ok and after.peer == gw_ip, f"SNAT after the failover: {after}; gateway {gw_ip}"
        times["SNAT: TCP to the outside again"] = since()
        back = _poll(dnat, lambda c: c.ok)
        assert back.ok and back.peer == outside_ip, f"floating IP {fip} after the failover: {back}"
        times["floating IP: TCP from the outside again"] = since()

        for kind, network_id in networks.items():
            # the same DHCP port, claimed by the survivor: same server address and MAC
            assert _dhcp_server(cl, network_id) == servers[kind], f"{kind}: the DHCP port changed"
            vm = va if kind == "vlan" else vb
            renewed = clients[kind].renew(timeout=HANG_GUARD)
            assert renewed.event == "renew" and renewed.ip == ip_of(vm), (
                f"{kind}: {vm.name}'s renewal gave {renewed}; all reports: {clients[kind].events()}"
            )
            times[f"DHCP renewal on the {kind} network"] = since()
        print(f"\nfailover of {victim} to {survivor} (agent_down_time {DOWN_TIME}s, wires cut: {', '.join(cut)}):")
        for step, seconds in times.items():
            print(f"  {seconds:5.1f} s  {step}")
    finally:
        for client in clients.values():
            client.stop()
