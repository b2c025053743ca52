"""The bus's share of convergence: from a committed change to the agent's listener, per transport.

What it measures: a real server built in-process (``neutrino.server.build``, noauth, SQLite in
a temporary directory) served by uvicorn on a loopback port, one agent host registered through
the bus (``report_state``, as an agent does), and that agent's subscription to its host topic
(``AgentClient.on_change``, what wakes the agent's work queue). Each change is a PUT that
flips the ``admin_state_up`` of a port bound to the host, so the host's desired state changes
and the notifier publishes ``host_changed``. The latency is from the commit of that PUT
(SQLAlchemy's ``after_commit``, in the server) to the listener being called (in the agent's
transport), over N sequential changes (default 200), and the transport's own share, from the
notifier handing ``host_changed`` to the transport to the listener, for each transport:

- in-process: server and agent share the ``InProcTransport`` (the lab's default);
- HTTP: the agent long-polls ``/bus/v1/events`` with ``HttpTransport`` (agent processes today);
- RabbitMQ: server and agent each have an ``AmqpTransport`` on a private broker started by
  ``dataplane/rabbitmq.py`` (Debian's ``rabbitmq-server``), stopped by pid at the end.

Context (issue 10): the issue asks for these p50/p99 per transport; a port's end-to-end target
(issue 5) is p50 < 100 ms from the API call to ACTIVE with TCP through it, of which the bus is
one hop; Neutron's OVS agent polls every 2 s, oslo.messaging on RabbitMQ delivers in ~1 ms.

Usage: ``./dev bench bus [--changes 200] [--json]``; no root needed. Takes about a minute.
"""

from __future__ import annotations

import argparse
import json
import socket
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neutrino.agent.kinds import AGENT_KINDS  # noqa: E402
from neutrino.bus.client import AgentClient  # noqa: E402

HOST = "bench-host"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _api(url: str, method: str, path: str, body: Any = None) -> Any:
    req = urllib.request.Request(url + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"{}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure(kind: str, changes: int, transport_url: str = "", warmup: int = 20) -> dict[str, Any]:
    import uvicorn
    from sqlalchemy import event

    from neutrino.config import load_server_settings
    from neutrino.server import build

    port = _free_port()
    state_dir = Path(tempfile.mkdtemp(prefix=f"nt-bench-bus-{kind}-"))
    settings = load_server_settings(None, state_dir=state_dir, auth="noauth", port=port, transport_url=transport_url)
    built = build(settings, write_files=False)
    server = uvicorn.Server(uvicorn.Config(built.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    if kind == "inproc":
        agent_transport = built.state.bus.transport
    elif kind == "http":
        from neutrino.bus.http import HttpTransport

        agent_transport = HttpTransport(url, lambda: "noauth")
    else:
        from neutrino.bus.amqp import AmqpTransport

        agent_transport = AmqpTransport(transport_url, name="bench-agent")
    commits: list[float] = []
    event.listen(built.state.sessions, "after_commit", lambda _s: commits.append(time.perf_counter()))
    published: list[float] = []  # when the notifier handed host_changed to the transport
    server_transport = built.state.bus.transport
    publish = server_transport.publish

    def timed_publish(topic: str, msg: dict[str, Any]) -> None:
        published.append(time.perf_counter())
        publish(topic, msg)

    server_transport.publish = timed_publish
    woken = threading.Condition()
    wakes: list[float] = []

    def on_change(_revision: int) -> None:
        with woken:
            wakes.append(time.perf_counter())
            woken.notify_all()

    client = AgentClient(agent_transport, HOST)
    latencies: list[float] = []
    hops: list[float] = []
    missed = 0
    try:
        agent_type, binary, topic, zone = AGENT_KINDS["ovs"]
        client.report_state(agent_type=agent_type, binary=binary, topic=topic, start_flag=True, availability_zone=zone,
                            configurations={"bridge_mappings": {}, "tunnel_types": [], "datapath_type": "system"})  # fmt: skip
        cancel = client.on_change(on_change)
        net = _api(url, "POST", "/v2.0/networks", {"network": {"name": "bench"}})["network"]
        _api(url, "POST", "/v2.0/subnets", {"subnet": {"network_id": net["id"], "cidr": "10.0.0.0/24", "ip_version": 4}})
        port_doc = _api(url, "POST", "/v2.0/ports", {"port": {"network_id": net["id"], "binding:host_id": HOST,
                                                               "device_owner": "compute:nova", "device_id": "vm"}})  # fmt: skip
        port_id = port_doc["port"]["id"]
        time.sleep(1.0)  # let the notifications of the setup pass
        for i in range(warmup + changes):
            with woken:
                before = len(wakes)
            commits.clear()
            published.clear()
            _api(url, "PUT", f"/v2.0/ports/{port_id}", {"port": {"admin_state_up": i % 2 == 1}})
            committed = commits[-1]
            with woken:
                if not woken.wait_for(lambda: len(wakes) > before, timeout=10):
                    missed += i >= warmup
                    continue
                if i >= warmup:  # the first changes warm caches and connections up
                    latencies.append(wakes[before] - committed)
                    hops.append(wakes[before] - published[-1])
        cancel()
    finally:
        if kind != "inproc":
            agent_transport.close()
        server.should_exit = True
        thread.join(timeout=10)
        built.state.close()
        shutil.rmtree(state_dir, ignore_errors=True)
    ms = [v * 1000 for v in latencies]
    hop_ms = [v * 1000 for v in hops]
    return {"transport": kind, "changes": changes, "missed": missed, "p50_ms": percentile(ms, 0.5),
            "p99_ms": percentile(ms, 0.99), "mean_ms": statistics.fmean(ms), "max_ms": max(ms),
            "publish_p50_ms": percentile(hop_ms, 0.5), "publish_p99_ms": percentile(hop_ms, 0.99)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--transports", default="inproc,http,amqp")
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    results = []
    kinds = [k.strip() for k in args.transports.split(",") if k.strip()]
    broker = None
    try:
        if "amqp" in kinds:
            from neutrino.dataplane import rabbitmq

            reason = rabbitmq.unavailable_reason()
            if reason:
                log(f"skipping RabbitMQ: {reason}")
                kinds.remove("amqp")
            else:
                log("starting a private RabbitMQ ...")
                broker_dir = tempfile.mkdtemp(prefix="nt-bench-rabbitmq-")
                broker = rabbitmq.start(broker_dir, die_with_parent=True)
        for kind in kinds:
            log(f"{kind}: {args.changes} changes ...")
            results.append(measure(kind, args.changes, broker.url if kind == "amqp" and broker else ""))
    finally:
        if broker is not None:
            broker.stop()
            shutil.rmtree(broker_dir, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    names = {"inproc": "in-process", "http": "HTTP long poll", "amqp": "RabbitMQ (kombu)"}
    import os

    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\ncommit -> agent listener, {args.changes} sequential changes ({os.cpu_count()} CPUs, load average {load})")
    print(f"{'':<20}{'commit -> listener':^36}{'publish -> listener':^20}")
    print(f"{'transport':<20}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'max ms':>9}{'p50 ms':>10}{'p99 ms':>9}{'missed':>8}")
    for r in results:
        print(f"{names[r['transport']]:<20}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['mean_ms']:>9.2f}"
              f"{r['max_ms']:>9.2f}{r['publish_p50_ms']:>10.2f}{r['publish_p99_ms']:>9.2f}{r['missed']:>8}")  # fmt: skip
    print("(commit -> listener includes the notifier's pass: finding the hosts the commit touched;"
          " publish -> listener is the transport alone)")
    print("\ncontext: issue 10 asks for p50/p99 per transport; issue 5's end-to-end target for a port is"
          " p50 < 100 ms (API call to ACTIVE with TCP through it), of which this is one hop;"
          " Neutron's OVS agent polls every 2 s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
