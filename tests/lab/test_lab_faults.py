"""Faults an operator meets, in a lab of separate processes, each with a TCP stream running
through the affected path and checked intact (its digest verified):

* an agent killed (SIGKILL) in the middle of a pass that wires a batch of ports: the supervisor
  restarts it, it converges, and nothing is duplicated or left behind (OVS ports, tags, flows,
  namespaces, nftables tables);
* the server stopped and started, then killed (SIGKILL) and restarted by the supervisor: the
  dataplane is untouched, and the agents reconnect by themselves (a change made afterwards
  reaches the dataplane).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from typing import Any

import pytest

from neutrino.agent.firewall import rules
from neutrino.dataplane import exec as programs
from neutrino.dataplane.nftables import Nftables
from neutrino.dataplane.openflow import COOKIE, OpenFlow
from neutrino.dataplane.ovsdb import Ovsdb
from neutrino.lab import instances, probes, process_control
from tests.lab.cloud_support import ProcessCloud, ip_of, poll, process_lab

pytestmark = pytest.mark.root
BATCH = 40


@pytest.fixture(scope="module")
def plab(lab_root):  # type: ignore[no-untyped-def]
    with process_lab(lab_root) as cl:
        yield cl


def _stream(src: Any, dst: Any, port: int, seconds: float) -> tuple[threading.Thread, dict[str, Any]]:
    """A TCP stream from ``src`` to ``dst`` for ``seconds``, in the background."""
    result: dict[str, Any] = {}

    def run() -> None:
        result["check"] = probes.transfer(src.netns, dst.netns, ip_of(dst), port=port, duration=seconds, timeout=20)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    # the fault comes once the stream runs (its connection established), not after a guess
    argv = ["ss", "-Htn", "state", "established", "dst", f"{ip_of(dst)}:{port}"]
    deadline = time.monotonic() + 15
    while not programs.run(argv, netns=src.netns).stdout.strip():
        assert time.monotonic() < deadline and thread.is_alive(), f"the stream never started: {result}"
        time.sleep(0.05)
    return thread, result


def _flows(cl: ProcessCloud, host: str) -> dict[str, list[str]]:
    """The agent's flows (its cookie): MAC-learning flows that traffic installs are not its."""
    of = OpenFlow(cl.lab.host(host).context)
    mine = f"cookie={COOKIE:#x}"
    return {bridge: sorted(f for f in of.dump(bridge) if mine in f) for bridge in ("br-int", "br-tun", "br-physnet1")}


def _dataplane(cl: ProcessCloud, host: str) -> dict[str, Any]:
    """What the agents own on ``host``: br-int ports with tags, flows, nft tables, namespaces."""
    h = cl.lab.host(host)
    ports = [p for p in Ovsdb(h.context).find_ports() if p.bridge == "br-int"]
    netns = programs.run(["ip", "netns", "list"]).stdout.split()
    return {
        "ports": Counter(p.name for p in ports),
        "tags": {p.name: p.tag for p in ports},
        "flows": _flows(cl, host),
        "nft": Counter(Nftables().list_tables(netns=h.netns)),
        "netns": sorted(n for n in netns if n.startswith(h.prefix)),
    }


def _wait_quiet(cl: ProcessCloud, host: str, timeout: float = 30.0) -> dict[str, Any]:
    """The host's dataplane once two looks a second apart agree (the agent's pass is over)."""
    deadline = time.monotonic() + timeout
    last = _dataplane(cl, host)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = _dataplane(cl, host)
        if now == last:
            return now
        last = now
    raise AssertionError(f"{host}'s dataplane kept changing for {timeout}s")


def test_agent_killed_mid_pass_converges_without_leftovers(plab: ProcessCloud) -> None:
    cl = plab
    net = cl.network("kill9", "10.31.0.0/24")
    a = cl.vm("ka", net["id"], "compute1")
    b = cl.vm("kb", net["id"], "compute2")
    ctx = cl.lab.host("compute2").context
    ovsdb = Ovsdb(ctx)
    thread, result = _stream(a, b, 5021, 10.0)

    # a batch of ports for compute2, plugged at once (as Nova would), then the agent is killed
    # as soon as it has tagged the first of them: in the middle of the pass that wires them
    body = {"ports": [{"network_id": net["id"], "device_owner": "compute:nova", "binding:host_id": "compute2",
                       "name": f"k9-{i}"} for i in range(BATCH)]}  # fmt: skip
    ports = cl.api.request("POST", "ports", body)["ports"]
    names = {p["id"]: "vif" + p["id"][:11] for p in ports}
    old_pid = cl.pid("compute2")
    assert old_pid is not None
    with ovsdb.transaction() as txn:
        for p in ports:
            txn.add_port("br-int", names[p["id"]], iface_type="internal", iface_external_ids={
                "iface-id": p["id"], "attached-mac": p["mac_address"], "iface-status": "active"})  # fmt: skip
    deadline = time.monotonic() + 30
    while not any(p.tag for p in ovsdb.find_ports() if p.name in names.values()):
        assert time.monotonic() < deadline, "compute2's agent never started wiring the batch"
        time.sleep(0.01)
    os.kill(old_pid, signal.SIGKILL)
    statuses = {p["id"]: p["status"] for p in cl.api.request("GET", "ports?device_owner=compute:nova")["ports"]}
    print(f"killed mid-pass: {sum(statuses.get(p['id']) == 'ACTIVE' for p in ports)}/{BATCH} of the batch reported up")
    new_pid = cl.wait_restarted("compute2", old_pid)
    assert new_pid != old_pid

    cl.wait_active([p["id"] for p in ports] + [b.port_id], timeout=60)
    thread.join(timeout=60)
    assert result["check"].ok, result["check"]

    after_kill = _wait_quiet(cl, "compute2")
    assert all(n == 1 for n in after_kill["ports"].values()), after_kill["ports"]
    tag = after_kill["tags"][b.devices["qvo"]]
    assert tag and all(after_kill["tags"][n] == tag for n in names.values()), "one local VLAN for the network"
    assert all(n == 1 for n in after_kill["nft"].values()), after_kill["nft"]
    assert after_kill["netns"] == [], "a compute host has no qdhcp or qrouter namespace"
    # what the killed agent's successor converged to is what a clean start converges to
    process_control.stop(cl.lab, "compute2")
    process_control.start(cl.lab, "compute2")
    clean = _wait_quiet(cl, "compute2")
    assert clean == after_kill

    # deleted, the batch leaves no port, flow or firewall chain behind
    for p in ports:
        cl.api.request("DELETE", f"ports/{p['id']}")
    with ovsdb.transaction() as txn:
        for name in names.values():
            txn.del_port(name)
    deadline = time.monotonic() + 30
    while True:
        gone = _wait_quiet(cl, "compute2")
        text = "\n".join(gone["flows"]["br-int"]) + (Nftables().table(rules.FAMILY, rules.TABLE, netns=ctx.netns) or "")
        leaked = [p["id"] for p in ports if p["mac_address"] in text or p["id"][:10] in text]
        if not leaked or time.monotonic() > deadline:
            break
    assert not leaked, f"flows or firewall chains left for {len(leaked)} deleted ports"
    assert gone["tags"][b.devices["qvo"]] == tag
    check = probes.transfer(a.netns, b.netns, ip_of(b), port=5022)
    assert check.ok, check


def test_server_restarted_and_killed_leaves_the_dataplane_and_agents_reconnect(plab: ProcessCloud) -> None:
    cl = plab
    net = cl.network("srvfault", "10.32.0.0/24")
    c = cl.vm("sc", net["id"], "compute1")
    d = cl.vm("sd", net["id"], "compute2")
    before = {h: _wait_quiet(cl, h) for h in ("compute1", "compute2")}
    thread, result = _stream(c, d, 5031, 12.0)

    # stopped and started on purpose (an upgrade), then killed: the supervisor starts it again
    process_control.stop(cl.lab, "server")
    process_control.start(cl.lab, "server")
    cl.wait_api()
    pid = cl.pid("server")
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    cl.wait_restarted("server", pid)
    cl.wait_api()

    thread.join(timeout=60)
    assert result["check"].ok, result["check"]
    after = {h: _wait_quiet(cl, h) for h in ("compute1", "compute2")}
    for host in after:
        assert after[host]["tags"] == before[host]["tags"], f"{host}: a tag changed"
        assert after[host]["flows"] == before[host]["flows"], f"{host}: flows changed"

    # the agents found the new server without anyone restarting them: a new instance gets its
    # port wired and its DHCP lease (compute2's L2 agent, the network node's DHCP agent)
    e = cl.vm("se", net["id"], "compute2")
    assert e.ip, "no DHCP lease after the server restart"
    check = probes.transfer(c.netns, e.netns, ip_of(e), port=5032)
    assert check.ok, check
    alive = {(a["host"], a["agent_type"]) for a in cl.api.request("GET", "agents")["agents"] if a["alive"]}
    assert {h for h, _ in alive} >= {"network", "compute1", "compute2"}
    instances.delete(cl.lab, "se")


def test_server_and_agents_expose_metrics_to_an_admin(plab: ProcessCloud) -> None:
    """Each agent process serves /metrics on its host's management address (admin token, checked
    with the identity service), and the server's /metrics counts ports turning ACTIVE."""
    import urllib.error
    import urllib.request

    from neutrino.lab.nodes import AGENT_METRICS_PORT
    from tests.unit.test_metrics import sample

    net = plab.api.request("POST", "networks", {"network": {"name": "metrics"}})["network"]
    plab.api.request("POST", "subnets", {"subnet": {"network_id": net["id"], "cidr": "10.77.0.0/24", "ip_version": 4}})
    vm = instances.create_from_api(plab.lab, "mvm", network=net["id"], host="compute1")
    assert poll(lambda: plab.api.request("GET", f"ports/{vm.port_id}")["port"]["status"], lambda s: s == "ACTIVE") == "ACTIVE"

    def scrape(url: str, token: str | None) -> tuple[int, bytes]:
        req = urllib.request.Request(url, headers={"X-Auth-Token": token} if token else {})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    agent_url = f"http://{plab.lab.host('compute1').address}:{AGENT_METRICS_PORT}/metrics"
    assert scrape(agent_url, None)[0] == 401
    assert scrape(agent_url, "not-a-token")[0] == 403
    status, text = scrape(agent_url, plab.api.token)
    assert status == 200
    assert (sample(text, "neutrino_agent_reconcile_seconds_count") or 0) >= 1
    assert (sample(text, "neutrino_agent_changes_applied_total", kind="ovsdb_commands", role="l2") or 0) >= 1
    assert 0 <= (sample(text, "neutrino_agent_heartbeat_age_seconds_local") or -1) < 60
    status, text = scrape(plab.api.url + "/metrics", plab.api.token)
    assert status == 200
    assert (sample(text, "neutrino_port_create_to_active_seconds_count") or 0) >= 1
    assert sample(text, "neutrino_agent_heartbeat_age_seconds", agent_type="Open vSwitch agent", host="compute1") is not None
    instances.delete(plab.lab, "mvm")
