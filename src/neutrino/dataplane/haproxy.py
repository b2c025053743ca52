"""A metadata proxy: one haproxy in a namespace, its configuration file, found again by pidfile.

haproxy daemonizes (``daemon`` in its configuration) and writes the ``pidfile`` named there; it
is recognised by the path of its configuration file in its argv, so another namespace's proxy
or a recycled pid is never signalled (docs/dataplane.md, "ip netns exec, daemons and cleanup").
A changed configuration restarts it (the agent's proxies change only when a router or network
comes or goes, so a reload buys nothing). It runs as root, as the agent (Neutron's default user
for it is the agent's own), so it can connect to the agent's socket.
"""

from __future__ import annotations

from pathlib import Path

from neutrino.dataplane import daemons
from neutrino.dataplane.dnsmasq import write_atomic


class Haproxy:
    def __init__(self, netns: str | None, conf_dir: Path, key: str) -> None:
        self.netns = netns
        self.config = Path(conf_dir) / f"{key}.cfg"
        self.pidfile = Path(conf_dir) / f"{key}.pid"
        self._daemon = daemons.Daemon(f"haproxy in {netns}", ["haproxy", "-f", str(self.config)], self.pidfile,
                                      netns=netns, expect=str(self.config))  # fmt: skip

    @property
    def pid(self) -> int | None:
        return self._daemon.pid

    def ensure(self, text: str, timeout: float = 10.0) -> int:
        """Running with configuration ``text``: started, or restarted when the text changed."""
        self.config.parent.mkdir(parents=True, exist_ok=True)
        if write_atomic(self.config, text, mode=0o600) and self._daemon.running:
            self._daemon.stop()
        return self._daemon.start(timeout)

    def stop(self) -> bool:
        """Stop it (if ours and alive) and remove its files."""
        stopped = self._daemon.stop()
        self.config.unlink(missing_ok=True)
        return stopped
