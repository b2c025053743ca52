"""Convergence: from the API call that creates and binds a port to the moment the port is
ACTIVE and a TCP connection through it succeeds; then scale and agent-restart resync.

What it measures, on a lab of a network host and two computes:

1. Single ports, against the control plane in this process by default (server, bus, every
   host's agent and this bench take turns on one interpreter lock), or with ``--processes`` as
   ``neutrino lab up`` runs it (the server and each host's agents in processes of their own, the
   HTTP bus between them, as a user's cloud does) (N=20, alternating compute1/compute2): POST /v2.0/ports with binding:host_id
   (what Nova does), plug the instance the hybrid way (namespace, tap, qbr, qvb/qvo on br-int:
   Nova's part), then poll the port until ACTIVE and open a TCP connection from the new
   instance to a peer instance on the other compute host. p50/p99 of the total, with the
   breakdown (API, plug, agent until ACTIVE, TCP).
Phases 2-4 always run the control plane in this process (they stop, start and read one agent):

2. Scale: 100 and 1000 ports created through the API (bulk), bound across the computes, and
   their VIFs plugged as OVS ports on br-int (one OVSDB transaction per host, no namespaces:
   that is the agent's work being measured): wall time until every port is ACTIVE.
3. Agent restart with those ports: stop compute1's agent, start a new one, time until its
   first pass completes, and check that no tag changed, no OVSDB write was needed and no flow
   was rewritten (flows' ``duration``), while a ping at 100/s and a TCP stream between
   an instance there and one on compute2 run across the restart: 0 lost.
4. ovs-vswitchd restart on compute2 (killed, started again): time until the agent's flows are
   back and TCP flows again through it, beside when br-int answered ``ovs-ofctl`` and when the
   agent's watch (``dataplane/vswitchd_watch.py``) reported vswitchd back.

``--phases 34`` runs phases 3 and 4 only (phase 3 still creates phase 2's ports, unreported);
``--one-compute`` binds phase 2's ports all to compute1, so that phase 3 restarts an agent that
holds them all (``--ports 1000 --one-compute``: the target's 1000 ports on one host);
``--profile FILE`` writes cProfile data of a fresh agent's first pass (FILE) and of the pass
after the vswitchd restart (FILE.vswitchd).

Targets (issues 5 and 12): p50 < 100 ms for one port (API create+bind, until ACTIVE, TCP: the plug, which stands for Nova, left out), 1000 ports converged < 10 s, resync
< 2 s with nothing written and nothing lost, vswitchd restart < 1 s to traffic.
For scale: Neutron's OVS agent polls every 2 s; OVN took 4-5 s to bind two ports at 1,000
hypervisors. Usage: ``./dev bench converge [--json] [--ports 1000] [--phases 34]`` as root.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(tempfile.mkdtemp(prefix="nt-bench-", dir="/tmp"))
ROOT.chmod(0o755)  # dnsmasq reads its files as nobody
os.environ["NEUTRINO_LAB_DIR"] = str(ROOT)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyroute2 import netns as pr_netns  # noqa: E402

from neutrino.dataplane.ovsdb import Ovsdb  # noqa: E402
from neutrino.lab import instances, topology  # noqa: E402
from tests.lab.cloud_support import cloud_lab, process_lab  # noqa: E402


def in_netns(ns: str, fn: Any) -> Any:
    """Run ``fn`` in a thread switched into namespace ``ns`` (setns is per thread)."""
    out: dict[str, Any] = {}

    def run() -> None:
        pr_netns.setns(ns)
        try:
            out["value"] = fn()
        except Exception as exc:  # noqa: BLE001
            out["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out.get("value")


def echo_server(ns: str, port: int) -> None:
    ready = threading.Event()

    def serve() -> None:
        pr_netns.setns(ns)
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("0.0.0.0", port))
        srv.listen(64)
        ready.set()
        while True:
            conn, _ = srv.accept()
            with conn:
                conn.sendall(conn.recv(64))

    threading.Thread(target=serve, daemon=True).start()
    ready.wait()


def tcp_ok(ns: str, ip: str, port: int, deadline: float) -> float:
    """Seconds until a TCP round trip from ``ns`` to ip:port succeeds."""
    start = time.monotonic()

    def attempt() -> bool:
        try:
            with socket.create_connection((ip, port), timeout=0.2) as s:
                s.sendall(b"ping")
                return s.recv(4) == b"ping"
        except OSError:
            return False

    while not in_netns(ns, attempt):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no TCP from {ns} to {ip}")
    return time.monotonic() - start


def wait_active(api: Any, ids: set[str], deadline: float, poll: float = 0.005) -> None:
    while True:
        if len(ids) == 1:
            [pid] = ids
            if api.request("GET", f"ports/{pid}?fields=status")["port"]["status"] == "ACTIVE":
                return
        else:
            ports = api.request("GET", "ports?fields=id&fields=status&status=ACTIVE")["ports"]
            if ids <= {p["id"] for p in ports}:
                return
        if time.monotonic() > deadline:
            raise TimeoutError("ports not ACTIVE in time")
        time.sleep(poll)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def single_ports(cl: Any, n: int) -> dict[str, Any]:
    net = cl.network("bench", "10.50.0.0/16")
    peers = {}
    for host in ("compute1", "compute2"):
        vm = instances.create_from_api(cl.lab, f"peer-{host}", network=net["id"], host=host)
        cl.wait_active([vm.port_id])
        echo_server(vm.netns, 7000)
        peers[host] = vm
    rows = []
    for i in range(n):
        host = ("compute1", "compute2")[i % 2]
        other = peers["compute2" if host == "compute1" else "compute1"]
        t0 = time.monotonic()
        port = cl.api.request("POST", "ports", {"port": {"network_id": net["id"], "device_owner": "compute:nova",
                                                         "binding:host_id": host, "name": f"b{i}"}})["port"]  # fmt: skip
        t1 = time.monotonic()
        ip = f"{port['fixed_ips'][0]['ip_address']}/16"
        vm = instances.create(cl.lab, f"b{i}", host=host, mac=port["mac_address"], ip=ip, mtu=net["mtu"], port_id=port["id"])
        t2 = time.monotonic()
        wait_active(cl.api, {port["id"]}, t2 + 20)
        t3 = time.monotonic()
        tcp_ok(vm.netns, other.ip.split("/")[0], 7000, t3 + 20)
        t4 = time.monotonic()
        rows.append({"api": t1 - t0, "plug": t2 - t1, "active": t3 - t2, "tcp": t4 - t3, "total": t4 - t0,
                     "without_plug": (t4 - t0) - (t2 - t1)})
    out = {k: {"p50_ms": round(pct([r[k] for r in rows], 0.5) * 1000, 1), "p99_ms": round(pct([r[k] for r in rows], 0.99) * 1000, 1)}
           for k in ("api", "plug", "active", "tcp", "total", "without_plug")}  # fmt: skip
    out["ports"] = n
    return out


def scale(cl: Any, n: int, cidr: str, hosts: tuple[str, ...] = ("compute1", "compute2")) -> dict[str, Any]:
    net = cl.network(f"scale{n}", cidr)
    cl.api.request("PUT", f"quotas/{net['project_id']}", {"quota": {"port": -1}})  # Neutron's default is 500
    t0 = time.monotonic()
    body = {"ports": [{"network_id": net["id"], "device_owner": "compute:nova", "binding:host_id": hosts[i % len(hosts)],
                       "name": f"s{n}-{i}"} for i in range(n)]}  # fmt: skip
    ports = []
    for start in range(0, n, 250):
        ports += cl.api.request("POST", "ports", {"ports": body["ports"][start : start + 250]})["ports"]
    t1 = time.monotonic()
    for idx, host in enumerate(hosts):
        ctx = cl.lab.host(host).context
        with Ovsdb(ctx).transaction() as txn:
            for p in ports[idx :: len(hosts)]:
                name = "vif" + p["id"][:11]
                txn.add_port("br-int", name, iface_type="internal", iface_external_ids={
                    "iface-id": p["id"], "attached-mac": p["mac_address"], "iface-status": "active"})  # fmt: skip
    t2 = time.monotonic()
    wait_active(cl.api, {p["id"] for p in ports}, t2 + 120, poll=0.05)
    t3 = time.monotonic()
    return {"ports": n, "hosts": len(hosts), "api_s": round(t1 - t0, 2), "plug_s": round(t2 - t1, 2), "until_active_s": round(t3 - t2, 2),
            "total_s": round(t3 - t0, 2)}  # fmt: skip


def flow_ages(ctx: Any) -> dict[str, float]:
    """Our flows of every bridge of the host (keyed by bridge and flow) -> seconds since each was
    written: ``duration`` restarts when a flow is added or modified, so it shows any rewrite."""
    from neutrino.dataplane import exec as programs
    from neutrino.dataplane.openflow import COOKIE

    ages = {}
    for bridge in Ovsdb(ctx).list_bridges():
        out = programs.run(["ovs-ofctl", "dump-flows", bridge, f"cookie={COOKIE:#x}/-1"], env=ctx.ovs_env).stdout
        for line in out.splitlines():
            fields = dict(f.split("=", 1) for f in line.strip().split(", ") if "=" in f and " " not in f.split("=", 1)[0])
            if "duration" in fields:
                key = f"{bridge} table={fields.get('table')} " + line.split(" actions=")[0].split("priority=", 1)[-1]
                ages[key] = float(fields["duration"].rstrip("s"))
    return ages


def ping_flood(src_ns: str, dst_ip: str, seconds: float, interval: float = 0.01) -> Any:
    """``ping -i interval`` for about ``seconds`` (count fixed up front: ping then waits for the
    last replies, so a packet in flight at the end is not counted lost)."""
    import subprocess

    from neutrino.dataplane import exec as programs

    argv = programs.netns_argv(["ping", "-q", "-n", "-i", str(interval), "-W", "1", "-c", str(int(seconds / interval)), dst_ip], src_ns)
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def ping_result(proc: Any) -> tuple[int, int]:
    """(sent, received) from a finished ``ping -q``."""
    import re

    out = proc.communicate(timeout=60)[0]
    match = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    if not match:
        raise RuntimeError(f"ping said: {out.strip()}")
    return int(match.group(1)), int(match.group(2))


class _InThisThread:
    """``reconciler._started``'s stand-in for a profile: the call runs at once, in this thread."""

    def __init__(self, fn: Any, *args: Any) -> None:
        self.value = fn(*args)

    def join(self) -> None:
        pass

    def result(self) -> Any:
        return self.value


def profile_first_pass(cl: Any, path: str) -> None:
    """A fresh agent's first pass on compute1 under cProfile, in this thread (the agent is built
    but not started: no threads of its own), written to ``path`` (``python -m pstats``)."""
    import cProfile

    from neutrino.agent.runner import HostAgent

    from neutrino.agent.l2 import reconciler

    cl.plane.stop_agent("compute1")
    h = cl.lab.host("compute1")
    prof = cProfile.Profile()
    started_on_thread = reconciler._started
    reconciler._started = _InThisThread  # the firewall in this thread, where the profile sees it
    prof.enable()
    agent = HostAgent(h.context, cl.plane.transport, cl.plane.agent_settings(h))
    started = time.monotonic()
    try:
        result = agent.reconcile_once()
    finally:
        prof.disable()
        reconciler._started = started_on_thread
    print(f"profiled first pass: {time.monotonic() - started:.3f} s, {result.ovsdb_commands} OVSDB commands", file=sys.stderr)
    agent.stop()
    prof.dump_stats(path)
    cl.plane.start_agent("compute1")


def restart(cl: Any, profile: str | None = None) -> dict[str, Any]:
    """Restart compute1's agent (a fresh one, as after an upgrade) while a ping flood and a TCP
    stream run between an instance on compute1 and one on compute2: the first pass's time, what
    it wrote (OVSDB commands, flows rewritten, tags) and what traffic lost."""
    from neutrino.lab import probes

    net = cl.network("rst", "10.48.0.0/24")
    a = instances.create_from_api(cl.lab, "rst-a", network=net["id"], host="compute1")
    b = instances.create_from_api(cl.lab, "rst-b", network=net["id"], host="compute2")
    cl.wait_active([a.port_id, b.port_id])
    b_ip = b.ip.split("/")[0]
    ctx = cl.lab.host("compute1").context
    ovsdb = Ovsdb(ctx)
    before = {p.name: p.tag for p in ovsdb.find_ports() if p.bridge == "br-int"}
    if profile:
        profile_first_pass(cl, profile)
    old = cl.plane.agents["compute1"]
    last = -1
    while old.passes != last:  # let the host's agent finish converging: restart a quiet agent
        last = old.passes
        time.sleep(2)
    ages_before, dumped = flow_ages(ctx), time.monotonic()
    window = 8.0
    flood = ping_flood(a.netns, b_ip, window)
    stream: dict[str, Any] = {}
    sender = threading.Thread(target=lambda: stream.setdefault("check", probes.transfer(
        a.netns, b.netns, b_ip, port=5009, duration=window, timeout=5)))  # fmt: skip
    sender.start()
    time.sleep(1.0)  # both running before the agent goes
    cl.plane.stop_agent("compute1")
    t0, cpu0 = time.monotonic(), os.times()
    agent = cl.plane.start_agent("compute1")
    started = time.monotonic()
    with agent.converged:
        agent.converged.wait_for(lambda: agent.passes >= 1, timeout=60)
    t1, cpu1 = time.monotonic(), os.times()
    # what load does not change: the CPU this process (server, bus, agents) and the programs it
    # waited for (ovs-ofctl, nft) spent until the first pass was done
    cpu = sum(cpu1[:4]) - sum(cpu0[:4])
    after = {p.name: p.tag for p in ovsdb.find_ports() if p.bridge == "br-int"}
    ages_after, elapsed = flow_ages(ctx), time.monotonic() - dumped
    # a flow left alone aged by ``elapsed`` (give or take the dumps' own time); a rewrite resets it
    rewritten = sorted(k for k, age in ages_after.items() if k not in ages_before or age < ages_before[k] + elapsed - 0.5)
    sent, received = ping_result(flood)
    sender.join(timeout=window + 30)
    flood_end = time.monotonic()
    passes = agent.passes  # a quiet restart needs one pass: any more ran in the flood's window
    check = stream.get("check")
    return {"ports_on_host": len(before), "resync_s": round(t1 - t0, 3), "start_call_s": round(started - t0, 3),
            "resync_cpu_s": round(cpu, 3),
            "tags_unchanged": before == after, "desired_fetches": dict(agent.desired.fetched),
            "passes_in_window": passes, "whole_fetches_why": dict(agent.desired.why_whole),
            "ovsdb_writes": agent.last_result.ovsdb_commands if agent.last_result else None,
            "flows_rewritten": len(rewritten), "flows_removed": len(set(ages_before) - set(ages_after)),
            "ping_sent": sent, "ping_lost": sent - received, "ping_covered_restart": flood_end > t1,
            "tcp_stream_ok": bool(check and check.ok), "tcp_stream": check.detail if check else "no result"}  # fmt: skip


def profile_next_pass(agent: Any, path: str) -> None:
    """Profile ``agent``'s next pass (in its work thread) into ``path``."""
    import cProfile

    original = agent.reconcile_once

    def profiled(*args: Any, **kwargs: Any) -> Any:  # the worker names the pass's roles
        agent.reconcile_once = original
        prof = cProfile.Profile()
        prof.enable()
        try:
            return original(*args, **kwargs)
        finally:
            prof.disable()
            prof.dump_stats(path)

    agent.reconcile_once = profiled


def vswitchd_restart(cl: Any, profile: str | None = None) -> dict[str, Any]:
    """Kill compute2's ovs-vswitchd and start it again (as systemd would): the flows are lost
    (docs/dataplane.md); time from vswitchd up until the agent's flows are back and a TCP
    connection from an instance on compute1 to one on compute2 succeeds."""
    import signal

    from neutrino.dataplane import daemons
    from neutrino.dataplane.openflow import OpenFlow
    from neutrino.dataplane.ovs import OvsInstance

    net = cl.network("vsd", "10.49.0.0/24")
    a = instances.create_from_api(cl.lab, "vsd-a", network=net["id"], host="compute1")
    b = instances.create_from_api(cl.lab, "vsd-b", network=net["id"], host="compute2")
    cl.wait_active([a.port_id, b.port_id])
    echo_server(b.netns, 7001)
    tcp_ok(a.netns, b.ip.split("/")[0], 7001, time.monotonic() + 20)
    ctx = cl.lab.host("compute2").context
    ovs, flows = OvsInstance(ctx), OpenFlow(ctx)
    pid = ovs.pids()["ovs-vswitchd"]
    assert pid is not None
    if profile:
        profile_next_pass(cl.plane.agents["compute2"], profile + ".vswitchd")
    os.kill(pid, signal.SIGKILL)
    while daemons.alive(pid, "ovs-vswitchd"):
        time.sleep(0.01)
    ovs.start()
    t0 = time.monotonic()
    reachable = None
    while True:
        try:
            if flows.cookie_flows("br-int") > 1:
                break
            reachable = reachable or time.monotonic()
        except Exception:  # noqa: BLE001 - the bridge's socket is not there yet
            pass
        if time.monotonic() > t0 + 30:
            raise TimeoutError("flows did not come back")
        time.sleep(0.01)
    t1 = time.monotonic()
    tcp_ok(a.netns, b.ip.split("/")[0], 7001, t1 + 30)
    t2 = time.monotonic()
    watch = cl.plane.agents["compute2"].switch_watch
    noticed = watch.back_at - t0 if watch is not None and watch.back_at else None
    return {"flows_back_s": round(t1 - t0, 3), "tcp_back_s": round(t2 - t0, 3),
            "agent_noticed_s": None if noticed is None else round(noticed, 3),
            "bridge_reachable_s": round((reachable or t1) - t0, 3)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--single", type=int, default=20)
    parser.add_argument("--ports", type=int, nargs="*", default=[100, 1000])
    parser.add_argument("--one-compute", action="store_true", help="bind phase 2's ports all to compute1 (the "
                        "restarted agent's host) instead of alternating over both computes")
    parser.add_argument("--processes", action="store_true", help="run phase 1 against the server and agents in "
                        "processes of their own (as `lab up` does) rather than in this process (as phases 2-4 do)")
    parser.add_argument("--phases", default="1234", help="which phases to run, e.g. 34 (3 needs 2's ports: it runs them unseen)")
    parser.add_argument("--profile", help="also profile a fresh agent's first pass (phase 3) into this file, "
                        "and the pass after the vswitchd restart (phase 4) into FILE.vswitchd")
    results: dict[str, Any] = {}
    try:  # from here on ROOT (made at import) is removed however the run ends, a bad argument too
        args = parser.parse_args()
        lab_file = topology.parse({"hosts": {"network": {"roles": ["network"]}, "compute1": {"roles": ["compute"]},
                                             "compute2": {"roles": ["compute"]}}})  # fmt: skip
        if "1" in args.phases and args.processes:
            with process_lab(ROOT, lab_file) as pl:
                results["single"] = single_ports(pl, args.single)
        with cloud_lab(ROOT, lab_file) if set(args.phases) - {"1"} or not args.processes else contextlib.nullcontext() as cl:
            if "1" in args.phases and not args.processes:
                results["single"] = single_ports(cl, args.single)
            if "2" in args.phases or "3" in args.phases:
                hosts = ("compute1",) if args.one_compute else ("compute1", "compute2")
                results["scale"] = [scale(cl, n, f"10.{60 + i}.0.0/16", hosts) for i, n in enumerate(args.ports)]
            if "3" in args.phases:
                results["restart"] = restart(cl, args.profile)
            if "4" in args.phases:
                results["vswitchd"] = vswitchd_restart(cl, args.profile)
    finally:
        shutil.rmtree(ROOT, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    s = results.get("single")
    if s:
        print(f"single port, n={s['ports']} (ms)      p50     p99")
        for k in ("api", "plug", "active", "tcp", "total", "without_plug"):
            print(f"  {k:<28}{s[k]['p50_ms']:>7}{s[k]['p99_ms']:>8}")
    for r in results.get("scale", []):
        print(f"{r['ports']:>5} ports on {r['hosts']} compute(s): API {r['api_s']} s, plug {r['plug_s']} s, until all ACTIVE {r['until_active_s']} s, total {r['total_s']} s")
    r = results.get("restart")
    if r:
        print(f"agent restart with {r['ports_on_host']} ports on the host: first pass done in {r['resync_s']} s "
              f"(CPU {r['resync_cpu_s']} s, this process and its programs), "
              f"tags unchanged: {r['tags_unchanged']}, OVSDB writes: {r['ovsdb_writes']}, flows rewritten: "
              f"{r['flows_rewritten']}, removed: {r['flows_removed']} (start() returned after {r['start_call_s']} s; "
              f"desired state fetches {r['desired_fetches']}, whole because {r['whole_fetches_why']}; "
              f"passes until the flood ended: {r['passes_in_window']})")  # fmt: skip
        print(f"  across it: ping -i 0.01 lost {r['ping_lost']} of {r['ping_sent']} (covered the restart: "
              f"{r['ping_covered_restart']}), TCP stream ok: {r['tcp_stream_ok']} ({r['tcp_stream']})")  # fmt: skip
    v = results.get("vswitchd")
    if v:
        print(f"ovs-vswitchd restart: flows back {v['flows_back_s']} s, TCP through again {v['tcp_back_s']} s after vswitchd is up "
              f"(br-int answered ovs-ofctl after {v['bridge_reachable_s']} s, the agent's watch after {v['agent_noticed_s']} s)")  # fmt: skip
    targets = []
    if s:
        # the target leaves out the plug, which stands for Nova's work (docs/architecture.md)
        targets.append(f"p50 < 100 ms without the plug ({'met' if s['without_plug']['p50_ms'] < 100 else 'not met'})")
    big = [r for r in results.get("scale", []) if r["ports"] >= 1000]
    if big and "2" in args.phases:
        targets.append(f"1000 ports < 10 s ({'met' if big[0]['total_s'] < 10 else 'not met'})")
    if r:
        quiet = r["resync_s"] < 2 and r["ovsdb_writes"] == 0 and r["flows_rewritten"] == 0 and r["ping_lost"] == 0
        targets.append(f"resync < 2 s, nothing written, nothing lost ({'met' if quiet and r['tcp_stream_ok'] else 'not met'})")
    if v:
        targets.append(f"vswitchd restart < 1 s ({'met' if v['tcp_back_s'] < 1 else 'not met'})")
    print("targets: " + "; ".join(targets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
