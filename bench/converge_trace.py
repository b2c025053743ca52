"""One port's path, stage by stage: bench/converge.py's phase 1 (in this process) with a
timestamp at each step, printed per port relative to its POST.

Where a port's "until ACTIVE" goes: the POST's commit, the notifier's pass and its publish,
each agent's wake, how its pass got its desired state (``take=parts|whole|reuse``; a merge the
agent refused is marked), the DHCP, L3 and L2 reconcilers, each agent call on the server
(``rpc <method> <host>``), the plug (the lab's stand-in for Nova), the bench's wait for ACTIVE
and its TCP check. The steps are timed by wrapping the functions that do them, in this process
only: nothing of the code under test changes. Heartbeats are left out.

Usage: ``sudo .venv/bin/python bench/converge_trace.py [--ports 10] [--show 3]`` (root: a lab).
"""

from __future__ import annotations

import argparse
import functools
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.argv, ARGV = sys.argv[:1], sys.argv[1:]  # converge parses nothing at import; keep ours

import converge  # noqa: E402

EVENTS: list[tuple[float, str, str]] = []


def mark(label: str) -> None:
    EVENTS.append((time.monotonic(), threading.current_thread().name, label))


def wrap(owner: Any, name: str, label: str | None = None, detail: Any = None) -> None:
    """Mark ``owner.name``'s start (``>label detail``) and end (``<label``)."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        mark(f">{label or name} {detail(*args, **kwargs) if detail else ''}".rstrip())
        try:
            return original(*args, **kwargs)
        finally:
            mark(f"<{label or name}")

    setattr(owner, name, timed)


def instrument() -> None:
    from neutrino.agent import desired_source, runner
    from neutrino.agent.dhcp.reconciler import DhcpReconciler
    from neutrino.agent.l2.reconciler import OvsL2Reconciler
    from neutrino.agent.l3.reconciler import L3Reconciler
    from neutrino.bus import inproc, server
    from neutrino.lab import instances
    from neutrino.lab.api import LabApi

    wrap(server.Notifier, "pass_once", "notifier pass")
    wrap(server.RpcServer, "handle", "rpc", lambda self, msg: f"{msg.get('method')} {msg.get('host', '')}")
    wrap(runner.HostAgent, "_reconcile", "pass")
    wrap(DhcpReconciler, "reconcile", "dhcp")
    wrap(OvsL2Reconciler, "reconcile", "l2")
    wrap(L3Reconciler, "reconcile", "l3")
    wrap(instances, "create", "plug")
    wrap(converge, "wait_active", "wait for ACTIVE")
    wrap(converge, "tcp_ok", "tcp")

    publish = inproc.InProcTransport.publish

    def published(self: Any, topic: str, msg: dict[str, Any]) -> None:
        named = " ".join(f"{k}={len(msg.get(k) or [])}" for k in ("ports", "networks", "security_groups", "routers"))
        mark(f"publish {topic} {named}")
        publish(self, topic, msg)

    inproc.InProcTransport.publish = published  # type: ignore[method-assign]
    take = desired_source.DesiredSource._take

    def taken(self: Any) -> Any:
        how = take(self)
        mark(f"take={how[0]} ports={len(how[1])} groups={len(how[2])}")
        return how

    desired_source.DesiredSource._take = taken  # type: ignore[method-assign]
    merge = desired_source.merge

    def merged(cached: Any, parts: Any) -> Any:
        out = merge(cached, parts)
        if out is None:
            mark("merge refused: fetching whole")
        return out

    desired_source.merge = merged
    committed = server.Notifier._committed

    def on_commit(self: Any, harvest: Any) -> None:
        mark(f"commit keys={len(harvest.keys)}")
        committed(self, harvest)

    server.Notifier._committed = on_commit  # type: ignore[method-assign]
    request = LabApi.request

    def requested(self: Any, method: str, path: str, body: Any = None) -> Any:
        if method == "POST" and path == "ports":
            mark(">POST port")
            try:
                return request(self, method, path, body)
            finally:
                mark("<POST port")
        return request(self, method, path, body)

    LabApi.request = requested  # type: ignore[method-assign]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=10)
    parser.add_argument("--show", type=int, default=3, help="how many of the last ports to print")
    args = parser.parse_args(ARGV)
    instrument()
    lab_file = converge.topology.parse({"hosts": {"network": {"roles": ["network"]}, "compute1": {"roles": ["compute"]},
                                                  "compute2": {"roles": ["compute"]}}})  # fmt: skip
    try:
        with converge.cloud_lab(converge.ROOT, lab_file) as cl:
            first = len(EVENTS)
            summary = converge.single_ports(cl, args.ports)
    finally:
        converge.shutil.rmtree(converge.ROOT, ignore_errors=True)
    events = EVENTS[first:]
    starts = [i for i, e in enumerate(events) if e[2] == ">POST port"][-args.show :]
    for n, start in enumerate(starts):
        end = next((i for i in range(start, len(events)) if events[i][2] == "<tcp"), len(events) - 1)
        t0 = events[start][0]
        print(f"--- port {args.ports - len(starts) + n + 1} of {args.ports}")
        for t, thread, label in events[start : end + 1]:
            if "report_state" not in label:
                print(f"{(t - t0) * 1000:8.1f} ms  {thread[:26]:<26} {label}")
    print({k: v for k, v in summary.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
