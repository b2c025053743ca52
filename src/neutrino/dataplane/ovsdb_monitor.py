"""Wake an agent when OVSDB's Interface table changes (a VIF plugged or unplugged).

Neutron's agent runs ``ovsdb-client monitor`` for this (minimize_polling); so do we. The
monitor is a child process that dies with its parent (PR_SET_PDEATHSIG), is stopped by pid,
and is restarted when it exits (e.g. after ovsdb-server restarted).
"""

from __future__ import annotations

import ctypes
import logging
import signal
import subprocess
import threading
from collections.abc import Callable

from neutrino.dataplane.host import HostContext

LOG = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class OvsdbMonitor:
    def __init__(self, host: HostContext, on_change: Callable[[], None], respawn_delay: float = 1.0) -> None:
        self.host = host
        self.on_change = on_change
        self.respawn_delay = respawn_delay
        self._proc: subprocess.Popen[str] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"ovsdb-monitor-{host.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        argv = ["ovsdb-client", "monitor", self.host.ovsdb_remote, "Open_vSwitch", "Interface",
                "name,ofport,external_ids", "--format=json"]  # fmt: skip
        while not self._stop.is_set():
            try:
                self._proc = subprocess.Popen(
                    argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, preexec_fn=_die_with_parent
                )
                assert self._proc.stdout is not None
                for _line in self._proc.stdout:
                    self.on_change()
                self._proc.wait()
            except OSError as exc:
                LOG.warning("ovsdb monitor on %s: %s", self.host.name, exc)
            if not self._stop.wait(self.respawn_delay):
                self.on_change()  # it died: whatever happened meanwhile, look again

    def stop(self) -> None:
        self._stop.set()
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._thread.join(timeout=3)
