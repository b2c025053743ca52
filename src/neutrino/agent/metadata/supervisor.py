"""The metadata role of an agent with the l3 or dhcp role: its socket server and its proxies.

Level-triggered like the rest: each pass computes the proxies wanted (``proxies.wanted``),
starts or restarts each one whose pid is not alive or whose configuration changed, and stops
those no longer wanted (their files in ``conf_dir`` are how they are found again after an
agent restart). Between passes the agent asks ``dead()`` at every idle tick, so a killed proxy
is back within seconds, as Neutron's process monitor respawns it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from neutrino.agent.metadata import proxies
from neutrino.agent.metadata.server import MetadataServer
from neutrino.contract.desired import DesiredHostState
from neutrino.dataplane.errors import DataplaneError
from neutrino.dataplane.haproxy import Haproxy
from neutrino.dataplane.host import HostContext

LOG = logging.getLogger(__name__)


class MetadataSupervisor:
    def __init__(self, host: HostContext, settings: proxies.MetadataSettings, conf_dir: Path, client: Any,
                 l3: bool, proxy_factory: Any = Haproxy) -> None:  # fmt: skip
        self.host, self.settings, self.conf_dir, self.l3 = host, settings, Path(conf_dir), l3
        self.proxy_factory = proxy_factory
        self._routers: dict[str, list[str]] = {}
        self._running: dict[str, Any] = {}
        self._started = False
        self.socket_path = self.conf_dir / "metadata_proxy"
        self.server = MetadataServer(self.socket_path, settings, client.metadata_port, lambda: self._routers)

    def stop(self) -> None:
        """Stop answering; the proxies stay (an agent restart must not cut metadata)."""
        if self._started:
            self.server.stop()
            self._started = False

    def reconcile(self, desired: DesiredHostState, dhcp_networks: list[str]) -> dict[str, str]:
        """One pass; returns the proxies that failed (key -> error), retried at the next."""
        if not self._started:  # the socket first: the proxies forward to it
            self.server.start()
            self._started = True
        self._routers = proxies.router_networks(desired)
        wanted = proxies.wanted(desired, self.settings, l3=self.l3, dhcp_networks=dhcp_networks)
        failed = {}
        for key, spec in sorted(wanted.items()):
            proxy = self._proxy(key, spec.namespace_base)
            text = proxies.haproxy_config(spec, self.socket_path, proxy.pidfile)
            try:
                proxy.ensure(text)
            except DataplaneError as exc:
                LOG.warning("metadata proxy %s: %s; will retry", key, exc)
                failed[key] = str(exc)
        for key in sorted(self._existing() - set(wanted)):
            LOG.info("metadata proxy %s: stopping", key)
            self._proxy(key, None).stop()
            self._running.pop(key, None)
        return failed

    def dead(self) -> bool:
        """A proxy this agent started is no longer running (killed, crashed)."""
        return any(p.pid is None for p in self._running.values())

    def _proxy(self, key: str, namespace_base: str | None) -> Any:
        ns = self.host.namespace(namespace_base) if namespace_base else None
        proxy = self.proxy_factory(ns, self.conf_dir, key)
        if namespace_base:
            self._running[key] = proxy
        return proxy

    def _existing(self) -> set[str]:
        if not self.conf_dir.is_dir():
            return set()
        return {p.stem for p in self.conf_dir.glob("*.cfg")} | set(self._running)
