"""A thousand simulated hosts: how fast a change reaches every host it affects, and only those.

What runs: a private PostgreSQL cluster (``dataplane/postgres.py``) and RabbitMQ broker
(``dataplane/rabbitmq.py``), both removed at the end; one neutrino server in a process of its
own (so its CPU time and RSS are its own), on that database and broker; N simulated hosts
(default 1000), each a real ``HostAgent`` with the fake dataplane (``dataplane/fake*.py``) and
its own identity, heartbeats and notification queue, many per process (``--per-process``),
the hosts of one process sharing one RabbitMQ connection (``bus/shared.py``). The cloud: ``--networks`` VLAN networks (default 500), ``--ports``
ports per host (default 30) on random networks, plugged in the host's fake OVSDB, and three
security groups: ``base`` (no remote group; most ports), ``web`` (its rule names itself, as the
default group's do: one member port on each of the first half of the hosts) and ``db`` (a rule
naming ``web``). One host also runs an L3 agent, which hosts a router. Networks, groups and the
router go through the API; the 30,000 ports are written to the database in bulk (creating them
one by one through the API would take longer than everything measured here).

What it measures, once every host has done its first pass:

- change 1: a port on the last host joins ``web`` (every ``web`` member's host must learn the
  new member's address): the time until each affected host has applied a desired state that
  holds it, and the hosts woken (told ``host_changed``) against the hosts affected;
- change 2: a new router interface (only the L3 host is affected);
- for each: the time applied at p50, p99 and on the last host, the server's CPU time and RSS,
  and bus messages (notifications received plus agents' calls but heartbeats, request and
  reply) per change, with the calls by method (``get_desired_parts``: a host that fetched only
  what the notification named; ``get_desired_state``: a whole state), and the host processes'
  CPU per affected host; the server's, the broker's and the host processes' CPU at rest
  (heartbeats, idle checks, audits), with the hosts' threads by kind (count, CPU, wake-ups);
  and why the hosts' passes fetched whole states since they started. ``--profile`` samples the
  busy threads of the server and the host processes at rest and during change 1.

Targets (issue 12): every affected host applied in under 1.5 s; only affected hosts woken.

Usage: ``./dev bench scale [--hosts 1000] [--ports 30] [--networks 500] [--per-process 250]
[--before] [--json]``; no root needed. ``--before`` swaps in the notifier as it was before
targeted notifications (project every host after commits, compare fingerprints), to compare.
``tests/api/test_scale_bench.py`` runs it small, for correctness.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.api.notify_oracle (--before)
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_hosts import run_hosts  # noqa: E402

TARGET_APPLIED = 1.5
PHYSNET = "physnet1"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Api:
    def __init__(self, url: str) -> None:
        self.url = url

    def __call__(self, method: str, path: str, body: Any = None) -> Any:
        req = urllib.request.Request(self.url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})  # fmt: skip
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path}: {exc.code} {exc.read().decode(errors='replace')[:300]}") from None


# --- the server, in a process of its own ------------------------------------------------------


def _full_projection_notifier(notifier: Any) -> None:
    """``--before``: the notifier as it was before targeted notifications, for comparison:
    after commits, project every agent host and notify those whose fingerprint changed (the
    tests keep the same as their oracle, ``tests/api/notify_oracle.py``)."""
    from neutrino.contract import messages
    from tests.api.notify_oracle import fingerprints

    known: dict[str, str] = {}

    def pass_once() -> list[str]:
        with notifier._lock:
            pending, notifier._pending = notifier._pending, type(notifier._pending)()
        if not pending:
            return []
        prints = fingerprints(notifier.read_sessions)
        changed = sorted(h for h, fp in prints.items() if known.get(h) != fp)
        known.update(prints)
        notifier.revision += 1
        events = [(messages.host_topic(host), messages.message(
            messages.HOST_CHANGED, host=host, revision=notifier.revision, sent_at=time.time())) for host in changed]  # fmt: skip
        if notifier.log is not None:  # as the notifier: logged before published (projection/shared_parts.py)
            notifier.log.append(events)
        for topic, msg in events:
            notifier.transport.publish(topic, msg)
        return changed

    notifier.pass_once = pass_once


def serve(state_dir: str, db_url: str, transport_url: str, port: int, before: bool = False) -> None:
    """The ``--serve`` mode: one server process (noauth) on the given database and broker."""
    import uvicorn

    from neutrino.config import load_server_settings
    from neutrino.server import build

    settings = load_server_settings(
        None, state_dir=Path(state_dir), auth="noauth", port=port, database_url=db_url, transport_url=transport_url,
        network_vlan_ranges=[f"{PHYSNET}:1:4000"], tenant_network_types=["vlan"], access_log=False,
        quotas={"network": -1, "subnet": -1, "port": -1},
    )  # fmt: skip
    built = build(settings, write_files=False)
    if before:
        _full_projection_notifier(built.state.bus.notifier)
    _log_wide_passes(built.state.bus.notifier)
    _profile_on_signals(Path(state_dir) / "profile.json")
    uvicorn.Server(uvicorn.Config(built.app, host="127.0.0.1", port=port, log_level="warning")).run()


def _log_wide_passes(notifier: Any) -> None:
    """Log each notifier pass that reached more than 10 hosts: how long it took, and how much
    of it went to publishing (to the driver's stderr)."""
    pass_once, publish = notifier.pass_once, notifier.transport.publish
    spent = [0.0]

    def timed_publish(topic: str, msg: dict[str, Any]) -> None:
        t0 = time.perf_counter()
        publish(topic, msg)
        spent[0] += time.perf_counter() - t0

    def timed_pass() -> list[str]:
        spent[0], t0 = 0.0, time.perf_counter()
        hosts = pass_once()
        if len(hosts) > 10:
            log(f"  server: a notifier pass told {len(hosts)} hosts in {(time.perf_counter() - t0) * 1000:.0f} ms "
                f"({spent[0] * 1000:.0f} ms publishing)")
        return hosts  # type: ignore[no-any-return]

    notifier.transport.publish, notifier.pass_once = timed_publish, timed_pass


def _profile_on_signals(out: Path) -> None:
    """``--profile``: SIGUSR1 starts sampling the server's threads, SIGUSR2 writes the profile
    to ``out`` (``scale_hosts.Sampler``)."""
    from scale_hosts import Sampler

    sampler = Sampler()
    signal.signal(signal.SIGUSR1, lambda *_: sampler.start())
    signal.signal(signal.SIGUSR2, lambda *_: out.write_text(json.dumps(sampler.stop())))


def _profiled(hosts: Any, server: Any, work: Path, enabled: bool, what: Any) -> Any:
    """Run ``what()``; with ``enabled``, profile the server and the host processes meanwhile
    and print the profiles to stderr."""
    if not enabled:
        return what()
    out = work / "server" / "profile.json"
    out.unlink(missing_ok=True)
    server.send_signal(signal.SIGUSR1)
    hosts.ask({"cmd": "profile"})
    try:
        return what()
    finally:
        profiles = hosts.ask({"cmd": "profile", "stop": True})
        server.send_signal(signal.SIGUSR2)
        for _ in range(50):
            if out.exists():
                break
            time.sleep(0.1)
        for name, prof in [("server", json.loads(out.read_text()) if out.exists() else {})] + [
                (f"hosts {i}", p) for i, p in enumerate(profiles)]:  # fmt: skip
            log(f"profile of {name}: {prof.get('samples')} samples of busy threads")
            for kind in ("own", "inclusive"):
                log(f"  {kind}: " + ", ".join(f"{n} {c}" for n, c in prof.get(kind, [])))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- the cloud ----------------------------------------------------------------------------------


def _bulk_ports(db_url: str, hosts: list[str], nets: list[dict[str, Any]], per_host: int,
                groups: dict[str, str], rng: random.Random) -> dict[str, list[dict[str, Any]]]:  # fmt: skip
    """Write the ports, their addresses, bindings and group memberships in bulk; returns each
    host's ports (id, MAC, network, address, groups)."""
    import uuid

    from sqlalchemy import insert

    from neutrino.db.engine import make_engine
    from neutrino.domain.models import IPAllocation, Port, PortBinding, SecurityGroupPortBinding

    engine = make_engine(db_url)
    next_ip = {n["id"]: 10 for n in nets}
    rows: dict[str, list[Any]] = {"ports": [], "ips": [], "bindings": [], "groups": []}
    out: dict[str, list[dict[str, Any]]] = {}
    counter = 0
    for index, host in enumerate(hosts):
        out[host] = []
        for n in range(per_host):
            net = rng.choice(nets)
            counter += 1
            pid, mac = str(uuid.uuid4()), "fa:16:3e:%02x:%02x:%02x" % (counter >> 16 & 255, counter >> 8 & 255, counter & 255)
            offset = next_ip[net["id"]]
            next_ip[net["id"]] += 1
            ip = _address(net, offset)
            member = ["web"] if n == 0 and index < len(hosts) // 2 else ["db"] if n == 1 and index % 50 == 0 else ["base"]
            rows["ports"].append({"id": pid, "project_id": "bench", "network_id": net["id"], "mac_address": mac,
                                  "device_owner": "compute:nova", "device_id": f"vm-{counter}", "status": "DOWN"})
            rows["ips"].append({"subnet_id": net["subnet_id"], "ip_address": ip, "port_id": pid,
                                "network_id": net["id"], "position": 0})  # fmt: skip
            rows["bindings"].append({"port_id": pid, "host": host, "vif_type": "ovs", "vif_details": {}, "profile": {}})
            rows["groups"] += [{"port_id": pid, "security_group_id": groups[g]} for g in member]
            out[host].append({"id": pid, "mac": mac, "network_id": net["id"], "ip": ip, "groups": member})
    with engine.begin() as conn:
        for table, key in ((Port, "ports"), (IPAllocation, "ips"), (PortBinding, "bindings"),
                           (SecurityGroupPortBinding, "groups")):  # fmt: skip
            for start in range(0, len(rows[key]), 5000):
                conn.execute(insert(table.__table__), rows[key][start : start + 5000])
    engine.dispose()
    return out


def _cloud(api: Api, networks: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
    nets = []
    for i in range(networks):
        net = api("POST", "/v2.0/networks", {"network": {"name": f"n{i}", "provider:network_type": "vlan",
                                                         "provider:physical_network": PHYSNET,
                                                         "provider:segmentation_id": i + 1}})["network"]  # fmt: skip
        prefix = f"10.{i // 64}"
        third = (i % 64) * 4
        sub = api("POST", "/v2.0/subnets", {"subnet": {"network_id": net["id"], "ip_version": 4,
                                                       "cidr": f"{prefix}.{third}.0/22"}})["subnet"]  # fmt: skip
        # addresses are written as <prefix>.<third + offset // 256>.<offset % 256>
        nets.append({"id": net["id"], "subnet_id": sub["id"], "prefix": f"{prefix}", "third": third})
        if i % 100 == 99:
            log(f"  {i + 1} networks")
    groups = {}
    for name in ("base", "web", "db"):
        groups[name] = api("POST", "/v2.0/security-groups", {"security_group": {"name": name}})["security_group"]["id"]

    def rule(group: str, **attrs: Any) -> None:
        api("POST", "/v2.0/security-group-rules", {"security_group_rule": {
            "security_group_id": groups[group], "direction": "ingress", "ethertype": "IPv4", **attrs}})  # fmt: skip

    rule("base", protocol="tcp", port_range_min=22, port_range_max=22, remote_ip_prefix="0.0.0.0/0")
    rule("web", remote_group_id=groups["web"])
    rule("db", protocol="tcp", port_range_min=5432, port_range_max=5432, remote_group_id=groups["web"])
    return nets, groups


def _address(net: dict[str, Any], offset: int) -> str:
    return f"{net['prefix']}.{net['third'] + offset // 256}.{offset % 256}"


# --- the measurement ----------------------------------------------------------------------------


class Hosts:
    """The processes of simulated hosts, driven over pipes (``scale_hosts.run_hosts``)."""

    def __init__(self, plan: dict[str, list[dict[str, Any]]], broker_url: str, per_process: int, l3_host: str) -> None:
        ctx = multiprocessing.get_context("spawn")
        names = sorted(plan)
        self.pipes: list[Any] = []
        self.procs: list[Any] = []
        for start in range(0, len(names), per_process):
            chunk = {h: plan[h] for h in names[start : start + per_process]}
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=run_hosts, args=(child, chunk, broker_url, l3_host), daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)

    def ask(self, command: dict[str, Any], timeout: float = 600) -> list[Any]:
        for pipe in self.pipes:
            pipe.send(command)
        out = []
        for pipe in self.pipes:
            if not pipe.poll(timeout):
                raise TimeoutError(f"a host process did not answer {command['cmd']}")
            out.append(pipe.recv())
        return out

    def merged(self, command: dict[str, Any]) -> dict[str, Any]:
        merged: dict[str, Any] = {"applied": {}, "woken": {}, "notified": {}, "calls": 0, "started": 0, "passed": 0, "errors": [],
                                  "methods": {}, "why_whole": {}, "pass_cpu": []}  # fmt: skip
        for answer in self.ask(command):
            merged["applied"].update(answer.get("applied", {}))
            for reason, n in answer.get("why_whole", {}).items():
                merged["why_whole"][reason] = merged["why_whole"].get(reason, 0) + n
            for method, n in answer.get("methods", {}).items():
                merged["methods"][method] = merged["methods"].get(method, 0) + n
            merged["woken"].update(answer.get("woken", {}))
            merged["notified"].update(answer.get("notified", {}))
            for key in ("calls", "started", "passed"):
                merged[key] += answer.get(key, 0)
            merged["errors"] += answer.get("errors", [])
            merged["pass_cpu"] += answer.get("pass_cpu", [])
        return merged

    def stop(self) -> None:
        try:
            self.ask({"cmd": "stop"}, timeout=120)
        except (TimeoutError, OSError, EOFError):
            pass
        for proc in self.procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()


def _wait_all(hosts: Hosts, want: int, what: str, timeout: float) -> float:
    started = time.monotonic()
    while True:
        state = hosts.merged({"cmd": "status"})
        if state["passed"] >= want:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what}: {state['passed']} of {want} hosts after {timeout:.0f}s; {state['errors'][:3]}")
        time.sleep(1.0)


def _settle(hosts: Hosts, quiet: float, timeout: float) -> float:
    """Wait until the hosts make (almost) no calls for ``quiet`` seconds: ports reported up,
    the passes their status changes caused, retries after calls the busy server answered late.
    Returns how long that took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        hosts.ask({"cmd": "watch", "watch": {"kind": "none"}})
        time.sleep(quiet)
        state = hosts.merged({"cmd": "collect"})
        if state["calls"] <= max(2, len(hosts.procs)):
            break
        log(f"  {state['calls']} calls in {quiet:g} s: {state['methods']}; whole states since the start, why: "
            f"{state['why_whole']}")
    return round(time.monotonic() - started, 1)


def _change(hosts: Hosts, server_pid: int, watch: dict[str, Any], affected: set[str], act: Any,
            timeout: float = 120.0) -> dict[str, Any]:  # fmt: skip
    hosts.ask({"cmd": "watch", "watch": watch})
    time.sleep(0.5)  # let the watch settle everywhere
    cpu0 = _cpu_seconds(server_pid)
    hosts_cpu0 = sum(_cpu_seconds(proc.pid) for proc in hosts.procs)
    t0 = time.time()
    act()
    api_s = time.time() - t0
    deadline = time.monotonic() + timeout
    while True:
        state = hosts.merged({"cmd": "collect"})
        if affected <= set(state["applied"]) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    time.sleep(2.0)  # stragglers: hosts woken late still count as woken
    state = hosts.merged({"cmd": "collect"})
    cpu = _cpu_seconds(server_pid) - cpu0
    hosts_cpu = sum(_cpu_seconds(proc.pid) for proc in hosts.procs) - hosts_cpu0
    lags = sorted(state["applied"][h] - t0 for h in affected if h in state["applied"])
    told = sorted(state["notified"][h] - t0 for h in affected if h in state["notified"])
    woken = set(state["woken"])
    return {
        "affected": len(affected),
        "applied": len(lags),
        "missing": sorted(affected - set(state["applied"]))[:10],
        "applied_p50_s": round(lags[len(lags) // 2], 3) if lags else None,
        "applied_p99_s": round(lags[min(len(lags) - 1, len(lags) * 99 // 100)], 3) if lags else None,
        "applied_max_s": round(lags[-1], 3) if lags else None,
        "api_s": round(api_s, 3),
        "notified_p50_s": round(told[len(told) // 2], 3) if told else None,
        "notified_max_s": round(told[-1], 3) if told else None,
        "woken": len(woken),
        "woken_not_affected": len(woken - affected),
        "affected_not_woken": len(affected - woken),
        "bus_messages": sum(state["woken"].values()) + 2 * state["calls"],
        "notifications": sum(state["woken"].values()),
        "agent_calls": state["calls"],
        "calls_by_method": dict(sorted(state["methods"].items())),
        "server_cpu_s": round(cpu, 2),
        "hosts_cpu_s": round(hosts_cpu, 2),
        "hosts_cpu_per_affected_ms": round(hosts_cpu * 1000 / max(1, len(affected)), 1),
        "passes": len(state["pass_cpu"]),
        "pass_cpu_p50_ms": round(sorted(state["pass_cpu"])[len(state["pass_cpu"]) // 2] * 1000, 1) if state["pass_cpu"] else None,
        "server_rss_mib": round(_rss_mib(server_pid), 1),
    }


def _at_rest(hosts: Hosts, server_pid: int, broker_pid: int, seconds: float = 10.0) -> dict[str, Any]:
    """What the cloud costs when nothing changes, over ``seconds``: the server's, the broker's
    and the host processes' CPU (in % of one CPU), and the hosts' threads by kind (how many,
    their CPU and wake-ups per second, from /proc/self/task)."""
    pids = {"server": [server_pid], "broker": [broker_pid], "hosts": [p.pid for p in hosts.procs]}
    cpu0 = {k: sum(_cpu_seconds(p) for p in v) for k, v in pids.items()}
    before = hosts.ask({"cmd": "threads"})
    time.sleep(seconds)
    after = hosts.ask({"cmd": "threads"})
    cpu = {k: round((sum(_cpu_seconds(p) for p in v) - cpu0[k]) * 100 / seconds, 1) for k, v in pids.items()}
    kinds: dict[str, dict[str, float]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for old, new in zip(before, after):
        for kind, row in new.items():
            was = old.get(kind, {"ticks": 0, "wakeups": 0})
            out = kinds.setdefault(kind, {"threads": 0, "cpu_pct": 0.0, "wakeups_per_s": 0.0})
            out["threads"] += row["threads"]
            out["cpu_pct"] = round(out["cpu_pct"] + (row["ticks"] - was["ticks"]) * 100 / tick / seconds, 1)
            out["wakeups_per_s"] = round(out["wakeups_per_s"] + (row["wakeups"] - was["wakeups"]) / seconds, 1)
    return {"server_cpu_at_rest_pct": cpu["server"], "broker_cpu_at_rest_pct": cpu["broker"],
            "hosts_cpu_at_rest_pct": cpu["hosts"], "host_threads_at_rest": dict(sorted(kinds.items())),
            "hosts_rss_mib": round(sum(_rss_mib(p) for p in pids["hosts"]), 1)}  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, Any]:
    from neutrino.dataplane import rabbitmq
    from neutrino.dataplane.postgres import PostgresCluster

    work = Path(tempfile.mkdtemp(prefix="nt-bench-scale-"))
    cluster = PostgresCluster()
    reason = cluster.unavailable_reason() or rabbitmq.unavailable_reason()
    if reason is not None:
        raise SystemExit(f"bench scale needs PostgreSQL and RabbitMQ: {reason}")
    server = hosts = broker = None
    result: dict[str, Any] = {"notifier": "full projection (before)" if args.before else "targeted",
                              "hosts": args.hosts, "ports_per_host": args.ports, "networks": args.networks}
    try:
        log("starting PostgreSQL and RabbitMQ ...")
        cluster.start()
        db_url = cluster.create_database("neutrino_scale")
        broker = rabbitmq.start(work / "rabbitmq", die_with_parent=True)
        port = _free_port()
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(work / "server"), db_url, broker.url,
                                   str(port), "before" if args.before else ""], start_new_session=True)  # fmt: skip
        api = Api(f"http://127.0.0.1:{port}")
        for _ in range(600):
            try:
                api("GET", "/v2.0/networks?limit=1")
                break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit("the server exited at start") from None
                time.sleep(0.2)
        log(f"creating {args.networks} networks and the security groups ...")
        nets, groups = _cloud(api, args.networks)
        names = [f"h{i:04d}" for i in range(args.hosts)]
        l3_host = names[-1]
        log(f"writing {args.hosts * args.ports} ports ...")
        plan = _bulk_ports(db_url, names, nets, args.ports, groups, random.Random(args.seed))
        log(f"starting {args.hosts} hosts in {-(-args.hosts // args.per_process)} processes ...")
        started = time.monotonic()
        hosts = Hosts(plan, broker.url, args.per_process, l3_host)
        _wait_all(hosts, args.hosts, "first passes", timeout=args.timeout)
        result["first_pass_all_s"] = round(time.monotonic() - started, 1)
        log(f"every host did its first pass in {result['first_pass_all_s']} s; waiting for the cloud to settle ...")
        result["settled_after_s"] = _settle(hosts, args.settle, args.timeout)
        result.update(_profiled(hosts, server, work, getattr(args, "profile", False), lambda: _at_rest(hosts, server.pid, broker.pid)))
        result["server_rss_mib"] = round(_rss_mib(server.pid), 1)

        # change 1: a port of the last host joins web, whose members sit on half the hosts
        newcomer = plan[names[-2]][2]
        # web's rule and db's name web: the hosts of both groups' members have web's members
        users = {h for h, ports in plan.items() if any({"web", "db"} & set(p["groups"]) for p in ports)}
        affected = users | {names[-2]}
        log(f"change 1: a port joins a group used on {len(users)} hosts ...")
        result["join_group"] = _profiled(hosts, server, work, getattr(args, "profile", False), lambda: _change(
            hosts, server.pid, {"kind": "member", "group": groups["web"], "ip": newcomer["ip"]}, affected,
            lambda: api("PUT", f"/v2.0/ports/{newcomer['id']}",
                        {"port": {"security_groups": [groups["base"], groups["web"]]}}),
        ))  # fmt: skip

        # change 2: a new router interface (the router is hosted by the L3 host)
        ext = api("POST", "/v2.0/networks", {"network": {"name": "ext", "router:external": True,
                                                         "provider:network_type": "flat",
                                                         "provider:physical_network": PHYSNET}})["network"]  # fmt: skip
        api("POST", "/v2.0/subnets", {"subnet": {"network_id": ext["id"], "ip_version": 4, "cidr": "172.24.0.0/16"}})
        router = api("POST", "/v2.0/routers", {"router": {"name": "r"}})["router"]
        _settle(hosts, args.settle, args.timeout)  # scheduled to the L3 agent: its passes end, however slow
        subnet = nets[0]["subnet_id"]
        log("change 2: a router interface ...")
        result["router_interface"] = _change(
            hosts, server.pid, {"kind": "router_subnet", "subnet": subnet}, {l3_host},
            lambda: api("PUT", f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": subnet}),
        )  # fmt: skip
        final = hosts.merged({"cmd": "status"})
        result["errors"], result["why_whole"] = final["errors"][:5], final["why_whole"]
        return result
    finally:
        if hosts is not None:
            hosts.stop()
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if broker is not None:
            broker.stop()
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


def report(result: dict[str, Any]) -> None:
    print(f"\nneutrino at scale ({result['notifier']} notifier): {result['hosts']} hosts, {result['hosts'] * result['ports_per_host']} ports, "
          f"{result['networks']} networks (PostgreSQL, RabbitMQ, fake dataplane)")  # fmt: skip
    print(f"  first pass on every host: {result['first_pass_all_s']} s, quiet {result['settled_after_s']} s later;"
          f" server at rest: "
          f"{result['server_cpu_at_rest_pct']}% CPU, {result['server_rss_mib']} MiB RSS")  # fmt: skip
    print(f"  at rest: broker {result['broker_cpu_at_rest_pct']}% CPU, host processes "
          f"{result['hosts_cpu_at_rest_pct']}% CPU, {result['hosts_rss_mib']} MiB RSS in all; their threads by kind:")
    for kind, row in result["host_threads_at_rest"].items():
        print(f"    {kind}: {row['threads']} threads, {row['cpu_pct']}% CPU, {row['wakeups_per_s']} wake-ups/s")
    for key, title in (("join_group", "a port joins a group used on half the hosts"),
                       ("router_interface", "a new router interface")):  # fmt: skip
        r = result[key]
        ok_time = r["applied_max_s"] is not None and r["applied_max_s"] < TARGET_APPLIED and not r["missing"]
        print(f"  {title}:")
        print(f"    applied on {r['applied']} of {r['affected']} affected hosts; p50 {r['applied_p50_s']} s, "
              f"p99 {r['applied_p99_s']} s, last {r['applied_max_s']} s (target < {TARGET_APPLIED} s: {'met' if ok_time else 'NOT met'})")
        print(f"    the API call returned after {r.get('api_s')} s; notified (the first host_changed received): "
              f"p50 {r.get('notified_p50_s')} s, last {r.get('notified_max_s')} s")
        print(f"    woken {r['woken']}: {r['woken_not_affected']} not affected, {r['affected_not_woken']} affected "
              f"but not woken (target: only affected hosts: {'met' if not r['woken_not_affected'] else 'NOT met'})")
        print(f"    bus messages {r['bus_messages']} ({r['notifications']} notifications, {r['agent_calls']} agent "
              f"calls); server {r['server_cpu_s']} s CPU, {r['server_rss_mib']} MiB RSS; host processes "
              f"{r['hosts_cpu_s']} s CPU ({r['hosts_cpu_per_affected_ms']} ms per affected host; {r['passes']} passes, "
              f"{r['pass_cpu_p50_ms']} ms CPU each at p50)")  # fmt: skip
        print(f"    agent calls by method: {r['calls_by_method']}")
    print(f"  why passes fetched whole states (since the start): {result.get('why_whole')}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve"]:
        serve(*argv[1:4], int(argv[4]), before=argv[5:6] == ["before"])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--ports", type=int, default=30, help="ports per host")
    parser.add_argument("--networks", type=int, default=500)
    parser.add_argument("--per-process", type=int, default=250, help="simulated hosts per process")
    parser.add_argument("--settle", type=float, default=10.0,
                        help="seconds without calls from the hosts before a change is measured")
    parser.add_argument("--timeout", type=float, default=1800.0, help="for every host's first pass")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--before", action="store_true",
                        help="the notifier as before targeted notifications (projects every host), to compare")
    parser.add_argument("--profile", action="store_true",
                        help="sample the server's and the host processes' busy threads at rest and during change 1")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args)
    print(json.dumps(result, indent=2)) if args.json else report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
