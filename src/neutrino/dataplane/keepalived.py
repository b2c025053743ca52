"""A supervised keepalived for one HA router, inside its qrouter namespace.

keepalived daemonizes itself; it runs VRRP only (``-P``) with the pid files given on its
command line (``-p`` the parent, ``-r`` its VRRP child) inside the router's directory, and is
found again only through those files, recognised by its ``-f <config>`` argument, so a recycled
pid or another router's keepalived is never signalled (as dnsmasq, docs/dataplane.md, "ip netns
exec, daemons and cleanup"). A changed configuration is applied with SIGHUP: keepalived keeps
its VRRP state across a reload because the primary VIP never changes.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from neutrino.dataplane import daemons
from neutrino.dataplane.dnsmasq import write_atomic

CONF, PID, VRRP_PID, STATE, NOTIFY = "keepalived.conf", "keepalived.pid", "keepalived-vrrp.pid", "state", "notify.sh"


class Keepalived:
    """One router's keepalived: files in ``conf_dir``, the process inside ``netns``."""

    def __init__(self, netns: str, conf_dir: Path, binary: str = "keepalived") -> None:
        self.netns = netns
        self.conf_dir = Path(conf_dir)
        self.conf = self.conf_dir / CONF
        self.pidfile = self.conf_dir / PID
        self.vrrp_pidfile = self.conf_dir / VRRP_PID
        self.state_file = self.conf_dir / STATE
        self.notify = self.conf_dir / NOTIFY
        argv = [binary, "-P", "-f", str(self.conf), "-p", str(self.pidfile), "-r", str(self.vrrp_pidfile),
                "--dont-release-vrrp"]  # fmt: skip
        self._daemon = daemons.Daemon(f"keepalived in {netns}", argv, self.pidfile, netns=netns, expect=str(self.conf))

    @property
    def pid(self) -> int | None:
        return self._daemon.pid

    @property
    def vrrp_pid(self) -> int | None:
        pid = daemons.read_pid(self.vrrp_pidfile)
        return pid if daemons.alive(pid, str(self.conf)) else None

    def write(self, config: str, notify_script: str) -> bool:
        """Write the configuration and the notify script; True if the configuration changed."""
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(self.notify, notify_script, mode=0o755)
        return write_atomic(self.conf, config)

    def ensure(self, changed: bool, timeout: float = 10.0) -> int:
        """Running with the current configuration: started if dead (its state restarts as
        BACKUP), sent SIGHUP if the configuration changed. Returns the pid."""
        pid = self.pid
        if pid is None:
            self.state_file.unlink(missing_ok=True)
            return self._daemon.start(timeout)
        if changed:
            try:
                os.kill(pid, signal.SIGHUP)
            except ProcessLookupError:
                return self._daemon.start(timeout)
        return pid

    def state(self) -> str | None:
        """What the notify script last wrote (MASTER, BACKUP, FAULT, STOP), None before any."""
        try:
            return self.state_file.read_text().strip() or None
        except FileNotFoundError:
            return None

    def stop(self, timeout: float = 5.0) -> bool:
        stopped = self._daemon.stop(timeout)
        daemons.stop(self.vrrp_pidfile, str(self.conf), timeout)
        self.state_file.unlink(missing_ok=True)
        return stopped
