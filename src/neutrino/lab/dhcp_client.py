"""A DHCP client that keeps running in an instance, so that it can renew its lease.

``instances.dhcp_lease`` runs busybox udhcpc once (``-q``: quit once bound), which is a fresh
discovery every time. A real instance stays bound and renews: a unicast DHCPREQUEST to the
server that gave the lease (the server identifier), falling back to a broadcast rebind and
only then to discovery. ``DhcpClient`` runs udhcpc in the foreground (``-f``) with the lab's
``udhcpc.sh`` and reads the script's one-line reports; ``renew`` sends SIGUSR1 (udhcpc's
"renew now") and returns the next report: ``renew`` when a server acknowledged the lease,
``nak``/``bound`` when the client had to start over. The client is stopped by pid, and in any
case dies with the instance's namespace.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass

from neutrino.dataplane import exec as programs
from neutrino.lab import instances
from neutrino.lab import resolve

REPORT = "udhcpc.sh: "


class DhcpClientError(RuntimeError):
    pass


@dataclass(frozen=True)
class LeaseEvent:
    """One line of ``udhcpc.sh``: the event (bound, renew, nak, leasefail) and its fields."""

    event: str
    fields: dict[str, str]

    @property
    def ip(self) -> str | None:
        return self.fields.get("ip")


def parse(line: str) -> LeaseEvent | None:
    if not line.startswith(REPORT):
        return None
    words = line[len(REPORT):].split()
    if not words:
        return None
    return LeaseEvent(words[0], dict(w.split("=", 1) for w in words[1:] if "=" in w))


class DhcpClient:
    def __init__(self, lab: resolve.ResolvedLab, name: str) -> None:
        self.vm = instances.get(lab, name)
        self.log = lab.state_dir / "instances" / f"{name}.udhcpc.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._seen = 0

    def start(self, timeout: float = 30.0) -> LeaseEvent:
        """Start the client and wait until it is bound (it discovers again: same address)."""
        argv = ["busybox", "udhcpc", "-i", "eth0", "-f", "-t", "10", "-T", "1", "-A", "1",
                "-O", "staticroutes", "-O", "mtu", "-s", str(instances.UDHCPC_SCRIPT)]  # fmt: skip
        with open(self.log, "wb") as out:
            self._proc = subprocess.Popen(programs.netns_argv(argv, self.vm.netns), stdout=out, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL)  # fmt: skip
        return self._next({"bound"}, timeout)

    def renew(self, timeout: float = 30.0) -> LeaseEvent:
        """Ask for a renewal now; the first report after it that ends the attempt."""
        if self._proc is None or self._proc.poll() is not None:
            raise DhcpClientError(f"the DHCP client of {self.vm.name} is not running")
        os.kill(self._proc.pid, signal.SIGUSR1)
        return self._next({"renew", "bound", "nak"}, timeout)

    def next_report(self, timeout: float) -> LeaseEvent:
        """The next report that ends an attempt (``renew``, ``bound`` or ``nak``), whenever
        udhcpc's own timers make one: a renewal at half the lease, a rebinding later."""
        return self._next({"renew", "bound", "nak"}, timeout)

    def events(self) -> list[LeaseEvent]:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []
        return [e for e in map(parse, lines) if e is not None]

    def _next(self, wanted: set[str], timeout: float) -> LeaseEvent:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.events()
            for index in range(self._seen, len(events)):
                if events[index].event in wanted:
                    self._seen = index + 1
                    return events[index]
            if self._proc is not None and self._proc.poll() is not None:
                break
            time.sleep(0.1)
        tail = self.log.read_text(errors="replace")[-400:] if self.log.exists() else ""
        raise DhcpClientError(f"{self.vm.name}: no {'/'.join(sorted(wanted))} report within {timeout:g}s: {tail}")

    def stop(self) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
        self._proc = None
