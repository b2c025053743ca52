"""The L3 agent's HA routers: one supervised keepalived per router, and the state it reports.

The reconciler plugs an HA router's ``ha-`` device and leaves the router's other addresses and
routes to keepalived (``keepalived.render``); this module writes each router's configuration,
starts keepalived when it is not running (found by its pidfile: a keepalived that died is
started again on the next pass), reloads it when the configuration changed, reads the state its
notify script recorded, and stops the keepalived of routers no longer here. Files live in
``<state_dir>/<router id>/``.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neutrino.agent.l3 import keepalived as conf
from neutrino.contract.desired import RouterState

LOG = logging.getLogger(__name__)

KeepalivedFactory = Callable[[str, Path], Any]
"""(namespace, configuration directory) -> a keepalived adapter (``dataplane.keepalived``)."""


def _real_factory(netns: str, conf_dir: Path) -> Any:
    from neutrino.dataplane.keepalived import Keepalived

    return Keepalived(netns, conf_dir)


class HaRouters:
    def __init__(self, state_dir: Path, settings: conf.VrrpSettings | None = None,
                 factory: KeepalivedFactory | None = None) -> None:  # fmt: skip
        self.state_dir = Path(state_dir)
        self.settings = settings or conf.VrrpSettings()
        self.factory = factory or _real_factory
        self._daemons: dict[str, Any] = {}

    def _daemon(self, router_id: str, ns: str) -> Any:
        found = self._daemons.get(router_id)
        if found is None:
            found = self._daemons[router_id] = self.factory(ns, self.state_dir / router_id)
        return found

    def apply(self, ns: str, router: RouterState) -> str:
        """keepalived running with this router's configuration; returns its state
        (active/standby) as last recorded."""
        daemon = self._daemon(router.router_id, ns)
        text = conf.render(router, self.settings, str(daemon.notify))
        changed = daemon.write(text, conf.notify_script(str(daemon.state_file)))
        daemon.ensure(changed)
        return conf.state_of(daemon.state())

    def state(self, router_id: str) -> str | None:
        """The recorded state of a router's keepalived, without touching it (None: not ours)."""
        daemon = self._daemons.get(router_id)
        return None if daemon is None else conf.state_of(daemon.state())

    def stopped(self) -> list[str]:
        """Routers whose keepalived is not running (died, or killed): the next pass starts it."""
        return sorted(rid for rid, daemon in self._daemons.items() if daemon.pid is None)

    def pids(self, router_id: str) -> tuple[int | None, int | None]:
        """(keepalived's pid, its VRRP child's pid) for a router, for tests and tools."""
        daemon = self._daemons.get(router_id)
        return (None, None) if daemon is None else (daemon.pid, daemon.vrrp_pid)

    def remove_stale(self, wanted: set[str], namespace: Callable[[str], str]) -> list[str]:
        """Stop the keepalived of every router (known or found on disk) not in ``wanted``."""
        on_disk = {p.name for p in self.state_dir.iterdir() if p.is_dir()} if self.state_dir.is_dir() else set()
        gone = sorted((on_disk | set(self._daemons)) - wanted)
        for router_id in gone:
            daemon = self._daemons.pop(router_id, None) or self.factory(namespace(router_id), self.state_dir / router_id)
            try:
                daemon.stop()
            finally:
                shutil.rmtree(self.state_dir / router_id, ignore_errors=True)
            LOG.info("router %s: keepalived stopped", router_id)
        return gone
