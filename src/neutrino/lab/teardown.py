"""Remove everything a lab owns, and nothing else, even when the lab is half broken.

Ownership is by name (every namespace and root link of lab L starts with ``L-``; lab names
contain no ``-``) and by pidfiles under the lab's state directory. The order follows the
docs/dataplane.md ("ip netns exec, daemons and cleanup"): daemons by pidfile (after checking /proc/<pid>/cmdline), then any process still inside
a lab namespace (by pid, from ``ip netns pids``; a live process would keep a deleted namespace
alive, hidden), then the namespaces, then the root links, then the state directory.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from neutrino.dataplane import daemons
from neutrino.dataplane import exec as programs
from neutrino.dataplane.netlink import Netlink
from neutrino.lab import resolve
from neutrino.lab.topology import check_lab_name


@dataclass
class DownResult:
    name: str
    processes: list[int] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    state_dir: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.processes or self.namespaces or self.links or self.state_dir)


def down(name: str, root: Path = resolve.STATE_ROOT) -> DownResult:
    check_lab_name(name)
    result = DownResult(name=name)
    base = resolve.state_dir(name, root)
    prefix = resolve.lab_prefix(name)
    from neutrino.lab.host_connections import close_connections

    close_connections(name)  # before its ovsdb-servers go: no connection left retrying
    if base.is_dir():
        from neutrino.lab import services

        broker = daemons.read_pid(base / "rabbitmq" / "beam.pid")
        if services.stop_broker(base) and broker:  # by its pidfiles and marker (dataplane/rabbitmq.py)
            result.processes.append(broker)
        # the supervisor first (it stops the agents, then the server), any neutrino process it
        # left, vswitchd before ovsdb-server, then anything else
        order = {"supervisor.pid": 0, "ovs-vswitchd.pid": 2}
        pidfiles = sorted(base.rglob("*.pid"), key=lambda p: (order.get(p.name, 1 if _ours(p) else 3), str(p)))
        for pidfile in pidfiles:
            pid = daemons.read_pid(pidfile)
            expect, timeout = ("neutrino", 30.0) if _ours(pidfile) else (pidfile.stem, 5.0)
            if pid is not None and daemons.stop(pidfile, expect=expect, timeout=timeout):
                result.processes.append(pid)
    with Netlink() as netlink:
        mine = [ns for ns in netlink.list_netns() if ns.startswith(prefix)]
        # instances and per-host namespaces first, hosts last
        mine.sort(key=lambda ns: (ns.count("-"), ns), reverse=True)
        for ns in mine:
            result.processes += kill_inside(ns)
            netlink.del_netns(ns)
            result.namespaces.append(ns)
        for link in netlink.links():
            if link.name.startswith(prefix):
                netlink.del_link(link.name)
                result.links.append(link.name)
    if base.exists():
        shutil.rmtree(base)
        result.state_dir = str(base)
    return result


def _ours(pidfile: Path) -> bool:
    """The supervisor's pidfile and those of the processes it runs (``procs/``)."""
    return pidfile.name == "supervisor.pid" or pidfile.parent.name == "procs"


def kill_inside(netns: str) -> list[int]:
    done = programs.run(["ip", "netns", "pids", netns], check=False)
    pids = [int(p) for p in done.stdout.split() if p.isdigit()]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for pid in pids:
        _wait_gone(pid)
    return pids


def _wait_gone(pid: int, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.01)
