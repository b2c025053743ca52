"""The simulated hosts of ``bench/scale.py``: many ``HostAgent``s with the fake dataplane in one
process, each with its own identity, heartbeats and notification queue on one RabbitMQ
connection per process (``bus/shared.py``), driven over a pipe.

Commands (dicts with ``cmd``): ``status`` (how many hosts started and did a first pass),
``watch`` (start watching for a change: forget what was woken and applied, and from now on
record each host's first pass whose desired state holds it, and every ``host_changed`` and
call), ``collect`` (what was recorded since the watch), ``threads`` (this process's threads by
kind), ``profile`` (start, or ``stop`` and answer, the sampling of busy threads), ``stop``.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from neutrino.agent.adapters import AgentAdapters
from neutrino.agent.firewall.sysctls import REQUIRED
from neutrino.agent.kinds import AGENT_KINDS, configurations_for
from neutrino.agent.runner import AgentSettings, HostAgent
from neutrino.bus.amqp import AmqpTransport
from neutrino.bus.shared import HostTransport
from neutrino.contract import messages
from neutrino.dataplane.fake import FakeNetlink, FakeNftables
from neutrino.dataplane.fake_ovs import FakeOpenFlow, FakeOvsdb, FakeOvsInstance, FakeOvsState
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.naming import hybrid_devices

PHYSNET_BRIDGE = "br-physnet1"


def holds(watch: dict[str, Any] | None, desired: Any) -> bool:
    """Whether a host's desired state holds the watched change."""
    if watch is None or desired is None:
        return False
    if watch["kind"] == "member":
        if any(watch["group"] in p.security_groups and any(f.ip_address == watch["ip"] for f in p.fixed_ips)
               for p in desired.ports):  # fmt: skip
            return True
        return any(g.group_id == watch["group"] and watch["ip"] in g.ipv4 for g in desired.remote_groups)
    if watch["kind"] == "router_subnet":
        return any(f.subnet_id == watch["subnet"] for r in desired.routers for i in r.interfaces for f in i.fixed_ips)
    return False


class Recorder:
    """What the hosts of this process did since the last watch."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.watch: dict[str, Any] | None = None
        self.applied: dict[str, float] = {}
        self.woken: dict[str, int] = {}
        self.notified: dict[str, float] = {}
        """When each host received its first ``host_changed`` since the watch (wall clock)."""
        self.calls = 0
        self.methods: dict[str, int] = {}
        """Calls per method since the watch (whole states against parts)."""
        self.passed: set[str] = set()
        self.errors: list[str] = []
        self.pass_cpu: list[float] = []
        self.profile_passes = False
        self.profiles: list[Any] = []
        """cProfile of each pass while profiling (``--profile``), merged when it stops."""
        """The CPU time of each pass since the watch (its thread's: fetch, merge, apply)."""

    def start_watch(self, watch: dict[str, Any]) -> None:
        with self.lock:
            self.watch, self.applied, self.woken, self.calls, self.methods = watch, {}, {}, 0, {}
            self.notified = {}
            self.pass_cpu = []

    def answer(self, started: int, agents: list[HostAgent] | None = None) -> dict[str, Any]:
        why: dict[str, int] = {}
        for agent in agents or []:  # since the start: why passes fetched whole states
            for reason, n in agent.desired.why_whole.items():
                why[reason] = why.get(reason, 0) + n
        with self.lock:
            return {"why_whole": why, "applied": dict(self.applied), "woken": dict(self.woken), "notified": dict(self.notified), "calls": self.calls,
                    "methods": dict(self.methods), "started": started, "passed": len(self.passed), "errors": list(self.errors[-5:]),
                    "pass_cpu": list(self.pass_cpu)}  # fmt: skip


def _agent(name: str, ports: list[dict[str, Any]], shared: AmqpTransport, rec: Recorder) -> HostAgent:
    state, netlink = FakeOvsState(), FakeNetlink()
    ovsdb = FakeOvsdb(state=state)
    switch = FakeOvsInstance(state=state)
    adapters = AgentAdapters(switch=switch, ovsdb=ovsdb, openflow=FakeOpenFlow(state=state),
                             nftables=FakeNftables(netlink), netlink=netlink)  # fmt: skip
    switch.start()
    netlink._ns(None).sysctls.update(REQUIRED)  # a real host's br_netfilter settings, set by its operator
    with ovsdb.transaction() as txn:  # what a deployment's host already has, and Nova's plugs
        txn.add_bridge(PHYSNET_BRIDGE, datapath_type="netdev")
        txn.add_bridge("br-int", datapath_type="netdev")
        for p in ports:
            txn.add_port("br-int", hybrid_devices(p["id"])["qvo"], iface_external_ids={
                "iface-id": p["id"], "attached-mac": p["mac"], "iface-status": "active", "vm-uuid": "vm"})  # fmt: skip
    transport = HostTransport(shared, name)
    settings = AgentSettings(roles=("l2",), bridge_mappings={"physnet1": PHYSNET_BRIDGE},
                             report_interval=30, resync_interval=3600, idle_check=2.0, firewall=True)  # fmt: skip
    agent = HostAgent(HostContext(name=name), transport, settings, adapters)
    call, notified = transport.call, agent.metrics.notified
    reconcile = agent.reconcile_once

    def counted_call(topic: str, msg: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        with rec.lock:  # heartbeats come every report_interval whatever changes: not counted
            if rec.watch is not None and msg.get("method") != messages.REPORT_STATE:
                rec.calls += 1
                rec.methods[msg.get("method", "")] = rec.methods.get(msg.get("method", ""), 0) + 1
        return call(topic, msg, *args, **kwargs)

    def woken(sent_at: float | None) -> None:
        with rec.lock:  # a reconnect's own "look again" carries no send time: not the server's
            if rec.watch is not None and sent_at is not None:
                rec.woken[name] = rec.woken.get(name, 0) + 1
                rec.notified.setdefault(name, time.time())
        notified(sent_at)

    def recorded_pass(*args: Any, **kwargs: Any) -> Any:  # the worker names the pass's roles
        cpu0 = time.thread_time()
        profile = None
        if rec.watch is not None and rec.profile_passes:
            import cProfile

            profile = cProfile.Profile()
            profile.enable()
        try:
            result = reconcile(*args, **kwargs)
        except Exception as exc:
            with rec.lock:
                rec.errors.append(f"{name}: {exc}")
            raise
        if profile is not None:
            profile.disable()
        with rec.lock:
            if profile is not None:
                rec.profiles.append(profile)
            if rec.watch is not None:
                rec.pass_cpu.append(time.thread_time() - cpu0)
            rec.passed.add(name)
            if name not in rec.applied and holds(rec.watch, agent.desired.cached):
                rec.applied[name] = time.time()
        return result

    transport.call = counted_call  # type: ignore[method-assign]
    agent.metrics.notified = woken  # type: ignore[method-assign]
    agent.reconcile_once = recorded_pass  # type: ignore[method-assign]
    return agent


def _l3_heartbeats(agent: HostAgent, stop: threading.Event) -> None:
    """The L3 host's L3 agent, as far as the server sees it: its heartbeats (so that routers are
    scheduled to it and its desired state holds them). Its L2 agent applies that state; the L3
    role itself runs programs in namespaces, which simulated hosts have none of."""
    agent_type, binary, topic, zone = AGENT_KINDS["l3"]
    conf = configurations_for("l3", bridge_mappings={}, tunnel_types=[], tunneling_ip=None)
    start = True
    while not stop.is_set():
        try:
            agent.client.report_state(agent_type=agent_type, binary=binary, topic=topic, configurations=conf,
                                      start_flag=start, availability_zone=zone)  # fmt: skip
            start = False
        except Exception as exc:  # noqa: BLE001 - the next beat retries
            logging.getLogger(__name__).warning("L3 heartbeat of %s: %s", agent.host.name, exc)
        stop.wait(10.0)


def thread_costs() -> dict[str, dict[str, int]]:
    """This process's threads by kind (the name without the host's): how many, and their CPU
    ticks and voluntary context switches (wake-ups) so far. Two snapshots make a rate."""
    import os
    import re

    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, dict[str, int]] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            stat = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
            status = Path(f"/proc/self/task/{tid}/status").read_text()
        except OSError:
            continue  # the thread ended meanwhile
        kind = re.sub(r"h\d{4,}", "H", names.get(int(tid), "other"))
        kind = re.sub(r"[._-][0-9a-f]{12}|_\d+$", "", kind)
        row = out.setdefault(kind, {"threads": 0, "ticks": 0, "wakeups": 0})
        row["threads"] += 1
        row["ticks"] += int(stat[11]) + int(stat[12])
        row["wakeups"] += int(re.search(r"voluntary_ctxt_switches:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return out


class Sampler:
    """A sampling profile of this process's threads (``--profile``): every ``interval`` the
    stack of each thread that is not waiting, counted per function (inclusive) and per
    innermost function (self). Waiting threads (in a lock, an event, a select) are skipped."""

    IDLE = frozenset({"wait", "select", "poll", "_wait_for_tstate_lock", "acquire", "sleep", "recv", "recv_into",
                      "get", "wait_for", "readinto", "_read_bytes", "_worker", "_read", "_recv", "run"})  # fmt: skip

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.inclusive: dict[str, int] = {}
        self.own: dict[str, int] = {}
        self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.inclusive, self.own, self.samples = {}, {}, 0
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import sys

        me = threading.get_ident()
        while not self._stop.wait(self.interval):
            for ident, frame in sys._current_frames().items():
                if ident == me or frame.f_code.co_name in self.IDLE:
                    continue
                self.samples += 1
                seen: set[str] = set()
                name = f"{Path(frame.f_code.co_filename).name}:{frame.f_code.co_name}"
                self.own[name] = self.own.get(name, 0) + 1
                while frame is not None:
                    name = f"{Path(frame.f_code.co_filename).name}:{frame.f_code.co_name}"
                    if name not in seen:
                        seen.add(name)
                        self.inclusive[name] = self.inclusive.get(name, 0) + 1
                    frame = frame.f_back  # type: ignore[assignment]

    def stop(self, top: int = 25) -> dict[str, Any]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        def best(d: dict[str, int]) -> list[tuple[str, int]]:
            return sorted(d.items(), key=lambda kv: -kv[1])[:top]
        return {"samples": self.samples, "inclusive": best(self.inclusive), "own": best(self.own)}


def run_hosts(pipe: Any, plan: dict[str, list[dict[str, Any]]], broker_url: str, l3_host: str) -> None:
    """A host process: start its agents, then answer the driver's commands until ``stop``."""
    logging.basicConfig(level=logging.WARNING)
    rec = Recorder()
    sampler = Sampler()
    agents: list[HostAgent] = []
    stop = threading.Event()
    # one connection (a consumer thread and a publisher) for all the hosts of this process;
    # each host keeps its identity and its own notification queue (bus/shared.py)
    shared = AmqpTransport(broker_url, name=f"hosts-{min(plan)}", max_backoff=2.0, handler_threads=1)
    starting = threading.Thread(target=lambda: _start_all(plan, shared, l3_host, rec, agents, stop), daemon=True)
    starting.start()
    while True:
        command = pipe.recv()
        if command["cmd"] == "watch":
            rec.start_watch(command["watch"])
            pipe.send({})
        elif command["cmd"] in ("status", "collect"):
            pipe.send(rec.answer(len(agents), agents))
        elif command["cmd"] == "threads":
            pipe.send(thread_costs())
        elif command["cmd"] == "profile":
            if command.get("stop"):
                rec.profile_passes = False
                if rec.profiles:
                    import io
                    import pstats

                    out = io.StringIO()
                    stats = pstats.Stats(rec.profiles[0], stream=out)
                    for extra in rec.profiles[1:]:
                        stats.add(extra)
                    stats.sort_stats("cumulative").print_stats(30)
                    logging.getLogger(__name__).warning("%d passes profiled:\n%s", len(rec.profiles), out.getvalue())
                    rec.profiles = []
                pipe.send(sampler.stop())
            else:
                rec.profile_passes = True
                sampler.start()
                pipe.send({})
        elif command["cmd"] == "stop":
            starting.join(timeout=60)
            stop.set()
            for agent in agents:
                agent.stop()
                agent.client.transport.close()
            shared.close()
            pipe.send({})
            return


def _start_all(plan: dict[str, list[dict[str, Any]]], shared: AmqpTransport, l3_host: str, rec: Recorder,
               agents: list[HostAgent], stop: threading.Event) -> None:  # fmt: skip
    for name, ports in plan.items():
        try:
            agent = _agent(name, ports, shared, rec)
            agent.start()
            agents.append(agent)
            if name == l3_host:
                threading.Thread(target=_l3_heartbeats, args=(agent, stop), daemon=True).start()
        except Exception as exc:  # noqa: BLE001 - reported to the driver, which gives up in time
            with rec.lock:
                rec.errors.append(f"{name}: start: {exc}")
