"""RabbitMQ goes away and comes back: changes made meanwhile reach the dataplane after it.

The lab runs as ``lab up --bus rabbitmq`` runs it: the broker on the controller's management
address, the server and one agent process per host on its vhost. The broker is first stopped
and started again (a restart), then killed with SIGKILL and started again (a crash). Each time,
while it is away, a security group rule opening a new TCP port is added through the API (the
server and its database are up): the instance behind it stays closed on that port during the
outage (no agent can hear of the change), and after the broker is back the agents reconnect,
look again and open it; a TCP transfer through the new port proves it. An established TCP
stream crosses the first outage untouched (the dataplane does not depend on the bus). The
times from the broker's return to the open port are printed, never asserted.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from neutrino.lab import probes, services
from tests.lab.cloud_support import ProcessCloud, ip_of, poll, process_lab

pytestmark = [pytest.mark.root, pytest.mark.broker]
HANG_GUARD = 120.0
"""Not a timing assertion: only a bound that tells a hang from a slow machine."""


@pytest.fixture(scope="module")
def rabbit_lab(lab_root):  # type: ignore[no-untyped-def]
    from neutrino.dataplane import rabbitmq

    reason = rabbitmq.unavailable_reason()
    if reason is not None:
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI is set but the broker cannot run: {reason}", pytrace=False)
        pytest.skip(reason)
    with process_lab(lab_root, bus="rabbitmq") as cl:
        yield cl



T = TypeVar("T")


def _poll(fn: Callable[[], T], done: Callable[[T], bool], timeout: float = HANG_GUARD, every: float = 0.5) -> T:
    return poll(fn, done, timeout, every)


def _open_port(cl: ProcessCloud, group_id: str, port: int) -> None:
    cl.api.request("POST", "security-group-rules", {"security_group_rule": {
        "security_group_id": group_id, "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
        "port_range_min": port, "port_range_max": port, "remote_ip_prefix": "0.0.0.0/0"}})  # fmt: skip


def _wait_broker_gone(cl: ProcessCloud, pid: int) -> None:
    deadline = time.monotonic() + 30
    while os.path.exists(f"/proc/{pid}") and services.broker_pid(cl.lab) == pid:
        assert time.monotonic() < deadline, f"the broker (pid {pid}) did not go away"
        time.sleep(0.1)


def test_changes_made_while_the_broker_is_away_reach_the_dataplane(rabbit_lab: ProcessCloud) -> None:
    cl = rabbit_lab
    net = cl.network("bus", "10.41.0.0/24")
    gate = cl.api.request("POST", "security-groups", {"security_group": {"name": "gate"}})["security_group"]
    _open_port(cl, gate["id"], 5100)
    a = cl.vm("ra", net["id"], "compute1")
    b = cl.vm("rb", net["id"], "compute2", security_groups=(gate["id"],))
    assert _poll(lambda: probes.transfer(a.netns, b.netns, ip_of(b), port=5100, timeout=3), lambda c: c.ok).ok
    times: dict[str, float] = {}

    # 1. restarted: stopped cleanly, a rule added meanwhile, started again; a stream runs across
    result: dict[str, probes.Check] = {}
    stream = threading.Thread(target=lambda: result.setdefault("check", probes.transfer(
        a.netns, b.netns, ip_of(b), port=5100, duration=6.0, timeout=30)), daemon=True)  # fmt: skip
    stream.start()
    time.sleep(1.0)
    assert services.stop_broker(cl.lab.state_dir), "the lab's broker was not running"
    _open_port(cl, gate["id"], 5101)
    closed = probes.transfer(a.netns, b.netns, ip_of(b), port=5101, timeout=2)
    assert not closed.ok, f"port 5101 opened while no agent could hear of the rule: {closed}"
    services.start_broker(cl.lab)
    back = time.monotonic()
    opened = _poll(lambda: probes.transfer(a.netns, b.netns, ip_of(b), port=5101, timeout=3), lambda c: c.ok)
    assert opened.ok, f"the rule added while the broker was stopped never reached compute2: {opened}"
    times["restart: rule applied after the broker's return"] = time.monotonic() - back
    stream.join(timeout=60)
    assert result.get("check") is not None and result["check"].ok, result.get("check")

    # 2. killed: SIGKILL, a rule added meanwhile, started again (as an init system would)
    pid = services.broker_pid(cl.lab)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    _wait_broker_gone(cl, pid)
    _open_port(cl, gate["id"], 5102)
    closed = probes.transfer(a.netns, b.netns, ip_of(b), port=5102, timeout=2)
    assert not closed.ok, f"port 5102 opened while no agent could hear of the rule: {closed}"
    services.start_broker(cl.lab)
    back = time.monotonic()
    opened = _poll(lambda: probes.transfer(a.netns, b.netns, ip_of(b), port=5102, timeout=3), lambda c: c.ok)
    assert opened.ok, f"the rule added while the broker was dead never reached compute2: {opened}"
    times["kill -9: rule applied after the broker's return"] = time.monotonic() - back

    # and the bus works as before: a new instance is wired and gets its lease at once
    c = cl.vm("rc", net["id"], "compute2", security_groups=(gate["id"],))
    check = probes.transfer(a.netns, c.netns, ip_of(c), port=5102)
    assert check.ok, check
    print("\nbroker outages (times from the broker's return):")
    for step, seconds in times.items():
        print(f"  {seconds:5.1f} s  {step}")
