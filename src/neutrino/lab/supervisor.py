"""The lab's supervisor: a small detached process that keeps the lab's server and agents running.

``neutrino lab up`` starts it (``neutrino lab supervise``, pidfile ``supervisor.pid``, log
``supervisor.log``). It starts every process of ``nodes.specs`` inside its node's
namespace, writes each one's pidfile, and restarts any that dies, unless its stop marker says it
was stopped on purpose (``neutrino lab agent stop HOST``). A process that keeps dying soon after
its start is restarted with a growing pause (0.5 s doubling to 10 s), so a broken config does not
spin. Liveness is read from the pidfile and ``/proc/<pid>/cmdline`` (dataplane/daemons.py), not
only from ``waitpid``, so a supervisor that was itself killed and started again adopts the
processes still running instead of starting twins. It is a process of our own rather than
systemd units because the lab runs in containers and CI runners without systemd; on real hosts
systemd does this job (docs/deployment.md). With ``--db postgresql`` it also runs the lab's
PostgreSQL (lab/services.py) as its child, started before the server and again if it dies. On
SIGTERM it stops them all and exits once they are gone. ``procs.json`` records pid, restarts and last exit of each.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any

from neutrino.dataplane import daemons
from neutrino.lab import nodes, services
from neutrino.lab import resolve as rs

LOG = logging.getLogger(__name__)
PIDFILE = "supervisor.pid"
STATE = "procs.json"
EXPECT = "neutrino"
POLL = 0.2
FIRST_PAUSE = 0.5
MAX_PAUSE = 10.0
STABLE = 10.0
"""A process that ran this long before dying is restarted after the first, short pause."""


@dataclass
class Tracked:
    spec: nodes.ProcessSpec
    popen: subprocess.Popen[bytes] | None = None
    pid: int | None = None
    started: float = 0.0
    restarts: int = 0
    pause: float = FIRST_PAUSE
    next_start: float = 0.0
    last_exit: int | str | None = None

    def to_dict(self) -> dict[str, Any]:
        s = self.spec
        return {"name": s.name, "kind": s.kind, "node": s.node, "netns": s.netns, "pid": self.pid,
                "log": str(s.log), "config": str(s.config), "restarts": self.restarts, "last_exit": self.last_exit}  # fmt: skip


def live_pid(spec: nodes.ProcessSpec) -> int | None:
    pid = daemons.read_pid(spec.pidfile)
    return pid if daemons.alive(pid, EXPECT) else None


class Supervisor:
    def __init__(self, lab: rs.ResolvedLab) -> None:
        self.lab = lab
        self.tracked = [Tracked(spec) for spec in nodes.specs(lab)]
        self.stopping = threading.Event()
        self.services = services.read(lab)
        self.database: Any = None  # PostgresCluster, a child of ours, with --db postgresql

    def launch(self, t: Tracked) -> None:
        with open(t.spec.log, "ab") as log:
            t.popen = subprocess.Popen(
                t.spec.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )  # fmt: skip
        t.pid = t.popen.pid
        t.started = time.monotonic()
        t.spec.pidfile.write_text(f"{t.pid}\n")
        LOG.info("%s on %s: started, pid %d", t.spec.name, t.spec.node, t.pid)

    def ensure_database(self) -> None:
        """PostgreSQL before the server, started again if it died (its data directory is kept)."""
        if self.services.db != "postgresql" or self.stopping.is_set():
            return
        if self.database is not None and self.database.proc is not None and self.database.proc.poll() is None:
            return
        if self.database is not None:
            LOG.warning("postgresql on %s: died; starting it again", self.lab.controller.name)
            self.database.stop()
        self.database = services.start_database(self.lab, self.services)
        LOG.info("postgresql on %s: running, pid %d", self.lab.controller.name, self.database.pid)

    def step(self) -> bool:
        """One look at every process; True if something changed."""
        changed = False
        self.ensure_database()
        now = time.monotonic()
        for t in self.tracked:
            if t.popen is not None and t.popen.poll() is not None:
                t.last_exit = t.popen.returncode
                t.popen = None
            pid = live_pid(t.spec)
            if pid is not None:
                if pid != t.pid:  # adopted from an earlier supervisor
                    t.pid, t.started, changed = pid, now, True
                continue
            if t.pid is not None:  # it was running: it died, or was stopped on purpose
                on_purpose = t.spec.stop_marker.exists()
                LOG.warning("%s on %s: pid %d %s (exit %s)", t.spec.name, t.spec.node, t.pid,
                            "stopped on purpose" if on_purpose else "died", t.last_exit)  # fmt: skip
                t.pause = min(t.pause * 2, MAX_PAUSE) if now - t.started < STABLE else FIRST_PAUSE
                t.next_start = now + (0 if on_purpose else t.pause)
                t.pid, changed = None, True
            if t.spec.stop_marker.exists() or now < t.next_start or self.stopping.is_set():
                continue
            if t.started:
                t.restarts += 1
            self.launch(t)
            changed = True
        return changed

    def write_state(self) -> None:
        doc = {"supervisor": os.getpid(), "processes": [t.to_dict() for t in self.tracked]}
        tmp = self.lab.state_dir / (STATE + ".tmp")
        tmp.write_text(json.dumps(doc, indent=2))
        os.replace(tmp, self.lab.state_dir / STATE)

    def run(self) -> None:
        self.write_state()
        while not self.stopping.is_set():
            if self.step():
                self.write_state()
            self.stopping.wait(POLL)
        self.shutdown()

    def shutdown(self) -> None:
        """Everything at once: SIGTERM, then SIGKILL after 5 s. The server is not drained first:
        its long polls would hold it for their whole timeout, and agents survive a server
        that goes away (they retry)."""
        stop_all([t.spec for t in self.tracked], 5.0)
        for t in self.tracked:
            if t.popen is not None:
                t.popen.wait()
            t.pid = None
        if self.database is not None:
            self.database.stop()
        self.write_state()


def stop_all(specs: list[nodes.ProcessSpec], timeout: float) -> list[int]:
    """SIGTERM every live one, wait up to ``timeout``, SIGKILL the rest; remove their pidfiles."""
    pids = {s.name: p for s in specs if (p := live_pid(s)) is not None}
    for pid in pids.values():
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(daemons.alive(p, EXPECT) for p in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in pids.values():
        if daemons.alive(pid, EXPECT):
            _signal(pid, signal.SIGKILL)
    while any(daemons.alive(p, EXPECT) for p in pids.values()):
        time.sleep(0.02)
    for s in specs:
        s.pidfile.unlink(missing_ok=True)
    return list(pids.values())


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def serve(lab: rs.ResolvedLab) -> None:
    """Run in the foreground until SIGTERM (``neutrino lab supervise``)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    sup = Supervisor(lab)
    signal.signal(signal.SIGTERM, lambda *_: sup.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: sup.stopping.set())
    LOG.info("supervising lab %s: %s", lab.name, ", ".join(t.spec.name for t in sup.tracked))
    sup.run()
    LOG.info("lab %s: every process stopped", lab.name)
