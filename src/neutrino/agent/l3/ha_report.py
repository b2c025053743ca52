"""What the L3 role tells the server about its HA routers, and when it looks again.

After each pass the states keepalived recorded (``L3Result.ha_states``) are compared with those
last reported and the changes sent (Neutron's ``update_ha_routers_states``); the server then
binds the router's ports to the active host. Only an active router's ports are bound from here:
a standby asking would pull them away from the active side. A watcher thread looks at the state
files every ``poll`` seconds and wakes the worker when a state changed (so the report follows a
failover at once) or a keepalived died (at most once a second: the pass starts it again).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from neutrino.agent.l3.ha import HaRouters
from neutrino.agent.l3.keepalived import VrrpSettings
from neutrino.contract.desired import RouterState


def ha_routers(state_dir: Path | None, host: str, advert_int: float) -> HaRouters:
    """keepalived files beside the DHCP role's directory: ``<state>/<host>/ha_confs/<router>/``."""
    base = state_dir.parent if state_dir else Path("/var/lib/neutrino") / host
    return HaRouters(base / "ha_confs", VrrpSettings(advert_int=advert_int))


class HaReporter:
    def __init__(self, ha: Any, client: Any, wake: Callable[[], None], poll: float = 0.2) -> None:
        self.ha, self.client, self.wake, self.poll = ha, client, wake, poll
        self.reported: dict[str, str] = {}

    def bindable(self, routers: Iterable[RouterState]) -> list[RouterState]:
        """The routers whose ports this host may bind: legacy ones, and HA ones active here."""
        return [r for r in routers if r.ha is None or self.reported.get(r.router_id) == "active"]

    def after_pass(self, states: dict[str, str]) -> bool:
        """Report what changed; True when something did (look again: the ports move)."""
        changed = {k: v for k, v in states.items() if self.reported.get(k) != v}
        if changed:
            self.client.update_ha_states(changed)
        self.reported = dict(states)
        return bool(changed)

    def watch(self, stop: threading.Event) -> None:
        restarted_at = 0.0
        while not stop.wait(self.poll):
            if any(self.ha.state(rid) not in (None, seen) for rid, seen in list(self.reported.items())):
                self.wake()
            elif self.ha.stopped() and time.monotonic() - restarted_at > 1.0:
                restarted_at = time.monotonic()
                self.wake()
