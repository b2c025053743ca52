"""API throughput and memory of a real ``neutrino server`` process, against Neutron's figures.

What it measures: one sequential client on one keep-alive HTTP connection (``http.client``, so
the client costs almost nothing) drives a freshly started server (keystone auth, SQLite in a
temporary state directory) through the operations that dominate real deployments and test
suites: network creates, network GETs, full lists of 500 networks, port creates (each one an
IP allocation from a /16 and a MAC allocation), port deletes, and port creates bound to a
host (``binding:host_id``, a live Open vSwitch agent row written into the server's database
first, so that each create also runs the ML2 mechanism drivers). For each phase it prints
operations per second, p50/p99 latency and the server's CPU time per operation, then the
server's resident memory (VmRSS) and peak (VmHWM), and compares everything with the real
Neutron 29 server measured on this machine with SQLite, and with the project's target: 20
times each of Neutron's rates in < 100 MiB.

Why: neutrino exists to be a Neutron API server that is cheap enough to run everywhere (CI,
laptops, labs). Sequential latency is what a CLI user or a test suite feels, and it is the
figure the target is stated in; concurrency is covered by the test suite, not here.

With ``--with-neutron`` real Neutron 29 runs beside it (``bench/neutron_ref.py``: installed
from PyPI into ``.bench-neutron-venv`` on first use, SQLite, one process, tokens validated by
keystonemiddleware against the neutrino server's identity API) and the same client with the
same token drives both, phase by phase in turn (so that both meet the same load on a shared
machine); the comparison then uses Neutron's figures of this run instead of the recorded ones.

Usage: ``./dev bench api [--state-dir DIR] [--json] [--with-neutron]``. Takes about 15 seconds;
with Neutron about four minutes more.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import secrets
import signal
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from collections.abc import Iterator
from typing import Any

N_NETWORKS = 500
N_GETS = 500
N_LISTS = 50
N_PORTS = 500
N_PORT_DELETES = 200
N_BOUND_PORTS = 500
BIND_HOST = "bench-host"
START_TIMEOUT = 30.0
IDLE_RECONNECT = 2.0

# Real Neutron 29 (ML2/OVS, SQLite, one API worker) on this machine, same client and sequence,
# recorded on a quiet machine (no figure for bound ports); ``--with-neutron`` measures it in the
# same run instead (bench/neutron_ref.py), which on a shared machine is the fairer comparison.
NEUTRON_REFERENCE = {
    "network_create": 24.0,
    "network_get": 75.0,
    "network_list_500": 3.3,
    "port_create": 12.0,
    "port_delete": 16.0,
}
NEUTRON_RSS_MIB = 185.0
TARGET_FACTOR = 20.0
TARGET_RSS_MIB = 100.0

LABELS = {
    "network_create": f"{N_NETWORKS} network creates",
    "network_get": f"{N_GETS} network GETs",
    "network_list_500": f"{N_LISTS} lists of {N_NETWORKS} networks",
    "port_create": f"{N_PORTS} port creates (/16)",
    "port_delete": f"{N_PORT_DELETES} port deletes",
    "port_create_bound": f"{N_BOUND_PORTS} port creates, bound",
}


class BenchError(RuntimeError):
    pass


@dataclass
class Phase:
    name: str
    ops: int
    seconds: float
    ops_per_s: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float | None = None
    """The server process's CPU time (user + system, every thread) per operation over the phase:
    what load on a shared machine changes least (``take_turns``)."""


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_status_mib(pid: int, key: str) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0  # kB -> MiB
    raise BenchError(f"{key} not in /proc/{pid}/status")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, every thread (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Client:
    """One keep-alive HTTP/1.1 connection; JSON in, (status, JSON) out."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        self.last_used = time.monotonic()

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any, http.client.HTTPResponse]:
        # a connection idle for a while (the other server's turn) may have been closed by the
        # server's keep-alive timeout (uvicorn's is 5 s): start a new one (a connect, well under a
        # millisecond, in the phase's first request)
        now = time.monotonic()
        if now - self.last_used > IDLE_RECONNECT:
            self.conn.close()
        self.last_used = now
        data = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, path, body=data, headers=self.headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        return resp.status, (json.loads(raw) if raw else None), resp

    def expect(self, status: int, method: str, path: str, body: Any = None) -> Any:
        code, data, _ = self.request(method, path, body)
        if code != status:
            raise BenchError(f"{method} {path} -> {code} (expected {status}): {data}")
        return data

    def close(self) -> None:
        self.conn.close()


def timed(name: str, ops: list[Any], fn: Any) -> Phase:
    """Run ``fn(op)`` for each op, timing each call; the phase figures."""
    latencies: list[float] = []
    clock = time.perf_counter
    start = clock()
    for op in ops:
        t0 = clock()
        fn(op)
        latencies.append(clock() - t0)
    total = clock() - start
    latencies.sort()
    phase = Phase(
        name=name,
        ops=len(ops),
        seconds=round(total, 3),
        ops_per_s=round(len(ops) / total, 1),
        p50_ms=round(percentile(latencies, 50) * 1000, 2),
        p99_ms=round(percentile(latencies, 99) * 1000, 2),
    )
    log(f"  {LABELS[name]:<30} {phase.ops_per_s:>8.1f} ops/s")
    return phase


def start_server(state_dir: Path, password: str, log_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "NEUTRINO_"))}
    env["NEUTRINO_ADMIN_PASSWORD"] = password
    cmd = [
        sys.executable, "-m", "neutrino.cli.main", "server", "--state-dir", str(state_dir),
        "--port", str(port), "--host", "127.0.0.1", "--auth", "keystone",
    ]  # fmt: skip
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if proc.poll() is not None:
            raise BenchError(f"server exited with {proc.returncode} at start")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/")
            if conn.getresponse().status < 500:
                conn.close()
                return proc, port
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_server(proc)  # not returned to the caller: stopped here, not left running
            raise BenchError(f"server did not answer GET / within {START_TIMEOUT:.0f}s")
        time.sleep(0.1)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """By pid: SIGTERM, wait, SIGKILL."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def get_token(client: Client, password: str) -> tuple[str, str]:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": "admin", "password": password, "domain": {"name": "Default"}}},
            },
            "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}},
        }
    }
    code, data, resp = client.request("POST", "/identity/v3/auth/tokens", body)
    token = resp.getheader("X-Subject-Token")
    if code != 201 or not token:
        raise BenchError(f"token request -> {code}: {data}")
    return token, data["token"]["project"]["id"]


def run_phases(client: Client, project_id: str, add_agent: Any) -> Iterator[Phase]:
    """The measured sequence, one phase per step (so that two servers can take turns);
    ``add_agent(host)`` puts a live OVS agent in the server's database."""
    rng = random.Random(42)
    # Setup (not measured): lift the admin project's quotas so 500 networks / ports fit.
    client.expect(200, "PUT", f"/v2.0/quotas/{project_id}",
                  {"quota": {"network": -1, "subnet": -1, "port": -1}})  # fmt: skip

    net_ids: list[str] = []

    def create_network(i: int) -> None:
        data = client.expect(201, "POST", "/v2.0/networks", {"network": {"name": f"bench-net-{i}"}})
        net_ids.append(data["network"]["id"])

    yield timed("network_create", list(range(N_NETWORKS)), create_network)

    gets = [rng.choice(net_ids) for _ in range(N_GETS)]
    yield timed("network_get", gets, lambda nid: client.expect(200, "GET", f"/v2.0/networks/{nid}"))

    def list_all(_: int) -> None:
        found = client.expect(200, "GET", "/v2.0/networks")["networks"]
        if len(found) != N_NETWORKS:
            raise BenchError(f"list returned {len(found)} networks, expected {N_NETWORKS}")

    yield timed("network_list_500", list(range(N_LISTS)), list_all)

    # Setup (not measured): one more network with a /16 subnet for the ports.
    port_net = client.expect(201, "POST", "/v2.0/networks", {"network": {"name": "bench-ports"}})["network"]
    client.expect(201, "POST", "/v2.0/subnets",
                  {"subnet": {"network_id": port_net["id"], "cidr": "10.128.0.0/16", "ip_version": 4}})  # fmt: skip
    port_ids: list[str] = []

    def create_port(i: int) -> None:
        data = client.expect(201, "POST", "/v2.0/ports", {"port": {"network_id": port_net["id"], "name": f"p{i}"}})
        if not data["port"]["fixed_ips"]:
            raise BenchError("port created without an IP address")
        port_ids.append(data["port"]["id"])

    yield timed("port_create", list(range(N_PORTS)), create_port)

    doomed = rng.sample(port_ids, N_PORT_DELETES)
    yield timed("port_delete", doomed, lambda pid: client.expect(204, "DELETE", f"/v2.0/ports/{pid}"))

    # Port binding: a live OVS agent on BIND_HOST (inserted before timing), every port created
    # with binding:host_id, so each create also runs the mechanism drivers and writes the binding.
    add_agent(BIND_HOST)

    def create_bound_port(i: int) -> None:
        body = {"port": {"network_id": port_net["id"], "name": f"b{i}", "binding:host_id": BIND_HOST}}
        data = client.expect(201, "POST", "/v2.0/ports", body)
        if data["port"]["binding:vif_type"] != "ovs":
            raise BenchError(f"port not bound: {data['port']['binding:vif_type']}")

    yield timed("port_create_bound", list(range(N_BOUND_PORTS)), create_bound_port)


def add_live_ovs_agent(state_dir: Path, host: str) -> None:
    """What an OVS agent's heartbeat leaves in the server's database (a fresh timestamp)."""
    from neutrino.db.engine import make_engine, make_sessionmaker, run_in_transaction
    from neutrino.domain.models import Agent

    engine = make_engine(f"sqlite:///{state_dir / 'neutrino.db'}")
    conf = {"bridge_mappings": {"physnet1": "br-eth1"}, "tunnel_types": ["vxlan"], "datapath_type": "system"}
    try:
        run_in_transaction(
            make_sessionmaker(engine),
            lambda s: s.add(Agent(agent_type="Open vSwitch agent", binary="neutron-openvswitch-agent",
                                  topic="N/A", host=host, configurations=conf)),  # fmt: skip
        )
    finally:
        engine.dispose()


@dataclass
class Reference:
    """Neutron's figures the run compares with: measured in this run, or the recorded ones."""

    source: str
    rates: dict[str, float]
    rss_mib: float

    @classmethod
    def recorded(cls) -> Reference:
        return cls("Neutron 29, recorded", dict(NEUTRON_REFERENCE), NEUTRON_RSS_MIB)

    @classmethod
    def measured(cls, phases: list[Phase], hwm: float) -> Reference:
        return cls("Neutron 29, this run", {p.name: p.ops_per_s for p in phases}, hwm)


def print_phases(title: str, phases: list[Phase], rss: float, hwm: float) -> None:
    print(f"\n{title}")
    print(f"{'phase':<31}{'ops':>6}{'seconds':>9}{'ops/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'cpu ms/op':>11}")
    for p in phases:
        cpu = f"{p.cpu_ms:>11.2f}" if p.cpu_ms is not None else f"{'-':>11}"
        print(f"{LABELS[p.name]:<31}{p.ops:>6}{p.seconds:>9.2f}{p.ops_per_s:>10.1f}{p.p50_ms:>9.2f}{p.p99_ms:>9.2f}{cpu}")
    print(f"server memory: VmRSS {rss:.1f} MiB, VmHWM (peak) {hwm:.1f} MiB")


def report(phases: list[Phase], rss: float, hwm: float, ref: Reference) -> None:
    print_phases("neutrino", phases, rss, hwm)
    print(f"\n{'vs ' + ref.source + ' (SQLite)':<31}{'neutron':>9}{'neutrino':>10}{'ratio':>8}"
          f"{'target':>9}  met?")  # fmt: skip
    for p in phases:
        rate = ref.rates.get(p.name)
        if rate is None:
            print(f"{LABELS[p.name]:<31}{'-':>9}{p.ops_per_s:>10.1f}{'-':>8}{'-':>9}  (no Neutron figure)")
            continue
        ratio = p.ops_per_s / rate
        target = rate * TARGET_FACTOR
        ok = "yes" if p.ops_per_s >= target else "NO"
        print(f"{LABELS[p.name]:<31}{rate:>9.1f}{p.ops_per_s:>10.1f}{ratio:>7.1f}x{target:>9.0f}  {ok}")
    ok = "yes" if hwm < TARGET_RSS_MIB else "NO"
    print(f"{'server RSS MiB (peak)':<31}{ref.rss_mib:>9.0f}{hwm:>10.1f}"
          f"{ref.rss_mib / hwm:>7.1f}x{'< ' + str(int(TARGET_RSS_MIB)):>9}  {ok}")  # fmt: skip
    print(f"(ratio = neutrino / neutron for rates, neutron / neutrino for memory; "
          f"target = {TARGET_FACTOR:.0f}x each rate at < {TARGET_RSS_MIB:.0f} MiB)")  # fmt: skip


def as_json(phases: list[Phase], rss: float, hwm: float, ref: Reference) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in phases:
        doc: dict[str, Any] = {k: v for k, v in asdict(p).items() if k != "name"}
        rate = ref.rates.get(p.name)
        if rate is not None:
            doc.update(neutron_ops_per_s=rate, ratio=round(p.ops_per_s / rate, 2),
                       target_ops_per_s=rate * TARGET_FACTOR, target_met=p.ops_per_s >= rate * TARGET_FACTOR)  # fmt: skip
        out[p.name] = doc
    return {
        "phases": out,
        "rss_mib": round(rss, 1),
        "peak_rss_mib": round(hwm, 1),
        "neutron_source": ref.source,
        "neutron_rss_mib": ref.rss_mib,
        "target_rss_mib": TARGET_RSS_MIB,
        "rss_target_met": hwm < TARGET_RSS_MIB,
    }


def take_turns(runs: dict[str, Iterator[Phase]], pids: dict[str, int] | None = None) -> dict[str, list[Phase]]:
    """Each phase on each server in turn (neutrino's, then Neutron's), so that both meet the
    same load on a shared machine; ``pids``: each server's process, whose CPU time per
    operation each phase then records (a phase's unmeasured setup, a request or two, included)."""
    out: dict[str, list[Phase]] = {name: [] for name in runs}
    while True:
        for name, run in runs.items():
            if len(runs) > 1:
                log(f"  [{name}]")
            pid = (pids or {}).get(name)
            before = cpu_seconds(pid) if pid is not None else 0.0
            phase = next(run, None)
            if phase is None:
                return out
            if pid is not None:
                phase.cpu_ms = round((cpu_seconds(pid) - before) * 1000 / phase.ops, 2)
            out[name].append(phase)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--state-dir", type=Path, help="empty directory for the server's state (default: a tmp dir)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--with-neutron", action="store_true",
                        help="also measure real Neutron 29 in this run (installs it into .bench-neutron-venv once)")  # fmt: skip
    args = parser.parse_args()

    tmp: str | None = None
    if args.state_dir:
        state_dir = args.state_dir
        if state_dir.exists() and any(state_dir.iterdir()):
            parser.error(f"{state_dir} is not empty; the benchmark needs a fresh server")
        state_dir.mkdir(parents=True, exist_ok=True)
        log_path = state_dir / "bench-server.log"
    else:
        tmp = tempfile.mkdtemp(prefix="neutrino-bench-")
        state_dir = Path(tmp) / "state"
        log_path = Path(tmp) / "server.log"

    password = secrets.token_urlsafe(12)
    # SIGTERM (a CI timeout) unwinds like Ctrl-C, so the servers are stopped and the state removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    proc: subprocess.Popen[bytes] | None = None
    client: Client | None = None
    neutron: Any = None
    n_client: Client | None = None
    try:
        log(f"starting neutrino server (state dir {state_dir})")
        proc, port = start_server(state_dir, password, log_path)
        log(f"server pid {proc.pid} on 127.0.0.1:{port}; baseline VmRSS {proc_status_mib(proc.pid, 'VmRSS'):.1f} MiB")
        client = Client(port)
        token, project_id = get_token(client, password)
        client.headers["X-Auth-Token"] = token
        runs = {"neutrino": run_phases(client, project_id, lambda host: add_live_ovs_agent(state_dir, host))}
        pids = {"neutrino": proc.pid}
        if args.with_neutron:
            from neutron_ref import NeutronServer

            log("starting Neutron 29 (keystonemiddleware validating tokens against neutrino's identity API)")
            neutron = NeutronServer(f"http://127.0.0.1:{port}/identity", password, free_port())
            neutron.start()
            log(f"neutron pid {neutron.proc.pid} on 127.0.0.1:{neutron.port}")
            n_client = Client(neutron.port)
            n_client.headers["X-Auth-Token"] = token
            runs["neutron"] = run_phases(n_client, project_id, neutron.add_live_ovs_agent)
            pids["neutron"] = neutron.proc.pid
        results = take_turns(runs, pids)
        phases = results["neutrino"]
        rss = proc_status_mib(proc.pid, "VmRSS")
        hwm = proc_status_mib(proc.pid, "VmHWM")
        ref = Reference.recorded()
        if neutron is not None:
            n_phases = results["neutron"]
            n_rss, n_hwm = proc_status_mib(neutron.proc.pid, "VmRSS"), proc_status_mib(neutron.proc.pid, "VmHWM")
            ref = Reference.measured(n_phases, n_hwm)
    except BaseException as exc:
        if isinstance(exc, BenchError | OSError | KeyError | RuntimeError):
            log(f"bench failed: {exc}")
            try:
                log("--- server log (tail)\n" + "".join(log_path.read_text(errors="replace").splitlines(True)[-40:]))
            except OSError:
                pass
            if neutron is not None:
                log("--- neutron log (tail)\n" + neutron.tail())
            return 1
        raise
    finally:
        for c in (client, n_client):
            if c is not None:
                c.close()
        if neutron is not None:
            neutron.stop()
        if proc is not None:
            stop_server(proc)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    if args.json:
        print(json.dumps(as_json(phases, rss, hwm, ref), indent=2))
    else:
        if args.with_neutron:
            print_phases("Neutron 29", n_phases, n_rss, n_hwm)
        report(phases, rss, hwm, ref)
    return 0


if __name__ == "__main__":
    sys.exit(main())
