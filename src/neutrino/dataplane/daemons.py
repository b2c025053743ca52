"""Daemons supervised by pidfile, never by name.

Several emulated hosts run the same programs (ovsdb-server, ovs-vswitchd, dnsmasq) side by side,
and detached daemons inside ``ip netns exec`` can only be found again through their pidfiles
(docs/dataplane.md, "ip netns exec, daemons and cleanup"). A pid is signalled only after ``/proc/<pid>/cmdline`` confirms it is still
the expected program, so a stale pidfile naming a recycled pid never kills a stranger. Zombies
count as dead: on this machine kind pid 1 reaps detached daemons late.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from neutrino.dataplane import exec as programs
from neutrino.dataplane.errors import TemporaryError

POLL = 0.02


def read_pid(pidfile: str | os.PathLike[str]) -> int | None:
    """The pid written in ``pidfile``, or None if it is missing, empty or garbled."""
    try:
        text = Path(pidfile).read_text().strip()
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rpartition(")")[2].split()[0:1] == ["Z"]


def rss_mib(pid: int | None) -> float | None:
    """The resident memory of ``pid`` in MiB (``VmRSS``), or None when it is gone."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def alive(pid: int | None, expect: str) -> bool:
    """True if ``pid`` runs and its argv[0] basename or any argv element contains ``expect``."""
    if not pid:
        return False
    argv = _cmdline(pid)
    if not argv or _zombie(pid):
        return False
    return expect in os.path.basename(argv[0]) or any(expect in arg for arg in argv)


def _exiting(pid: int) -> bool:
    """Still in /proc, not yet a zombie, and its command line already released: a process
    in the middle of exiting (its sockets, datapath and files may not be closed yet)."""
    return os.path.exists(f"/proc/{pid}") and not _zombie(pid) and not _cmdline(pid)


def _wait_gone(pid: int, expect: str, timeout: float) -> bool:
    """Until the process has exited (or is a zombie), not merely until its cmdline is gone."""
    deadline = time.monotonic() + timeout
    while alive(pid, expect) or _exiting(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL)
    return True


def stop(pidfile: str | os.PathLike[str], expect: str, timeout: float = 5.0) -> bool:
    """SIGTERM, wait up to ``timeout``, then SIGKILL; remove the pidfile.

    Idempotent: a missing pidfile or a dead (or recycled) pid is not an error. Returns True if a
    live process was signalled, False if there was nothing to stop.
    """
    pid = read_pid(pidfile)
    signalled = False
    if pid is not None and alive(pid, expect):
        signalled = True
        try:
            os.kill(pid, signal.SIGTERM)
            if not _wait_gone(pid, expect, timeout):
                os.kill(pid, signal.SIGKILL)
                if not _wait_gone(pid, expect, timeout):
                    raise TemporaryError("stop", f"{expect} pid {pid}", "still running after SIGKILL")
        except ProcessLookupError:
            pass
    Path(pidfile).unlink(missing_ok=True)
    return signalled


@dataclass
class Daemon:
    """A program that daemonizes itself (``--detach``/``--pidfile`` or dnsmasq's ``--pid-file``).

    ``start`` runs ``argv`` (inside ``netns``, with ``env`` added) only if the pidfile does not name
    a live process, then waits until it does. ``expect`` defaults to argv[0]'s basename.
    """

    name: str
    argv: Sequence[str]
    pidfile: Path
    netns: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    expect: str = ""

    def __post_init__(self) -> None:
        self.pidfile = Path(self.pidfile)
        if not self.expect:
            self.expect = os.path.basename(self.argv[0])

    @property
    def pid(self) -> int | None:
        """The live daemon's pid, None if it is not running."""
        pid = read_pid(self.pidfile)
        return pid if alive(pid, self.expect) else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    def start(self, timeout: float = 10.0) -> int:
        """Start unless already running; return the pid. TemporaryError if it never comes up."""
        pid = self.pid
        if pid is not None:
            return pid
        self.pidfile.unlink(missing_ok=True)  # stale: dead or recycled
        programs.run(self.argv, netns=self.netns, env=dict(self.env) or None, timeout=timeout)
        deadline = time.monotonic() + timeout
        while (pid := self.pid) is None:
            if time.monotonic() >= deadline:
                raise TemporaryError("start", self.name, f"{self.pidfile} names no live {self.expect}")
            time.sleep(POLL)
        return pid

    def stop(self, timeout: float = 5.0) -> bool:
        return stop(self.pidfile, self.expect, timeout)
