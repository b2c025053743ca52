"""Where each pass's desired state comes from: the last one with the parts a notification
named merged in, the last one as it is, or the whole state fetched again.

``host_changed`` names the ports and security groups whose change reached this host
(``domain/notify/hosts.py``). When every notification since the last pass named only those,
the pass asks the server for those parts alone (``get_desired_parts``: the ports bound here, their
DHCP entries on the networks this host serves, and, for a port bound elsewhere, the tunnel peers
over the networks of the last state) and merges them (``desired_merge.py``), which refuses what
parts cannot tell (a router's port, say): then the pass fetches whole. A DHCP agent told of a new
port on its network thus fetches that port's entry, not every network it serves. An L2-only agent woken by
nothing but its own dataplane (OVSDB: a VIF plugged or unplugged) reuses the last state as it
is: the server's side did not change, or a notification would have said so, and the pass only
has to read what OVS now holds; so does an agent with DHCP or L3 too when such a wake-up runs
its L2 role alone (each role is its own work-queue key: ``agent/wake_roles.py``). That is the pass that wires a freshly plugged port, so it
makes no round trip to the server before its report. Everything else fetches the whole state,
as before: the first pass, a retry and the periodic resync (both invalidate), a reconnect's
"look again", hints that were cut short or name networks or routers, a merge that cannot
tell, an older server, and any unhinted wake-up of an agent with DHCP or L3 (they have wake-ups
of their own). Correctness first: in doubt, fetch all. One more reuse, ``keep``: after a
vswitchd restart only the switch lost its state, so that pass reuses the last state as it is
(with what hints arrived meanwhile merged in as usual).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from neutrino.agent.desired_merge import merge
from neutrino.bus.client import AgentClient, PartsUnsupported
from neutrino.contract.desired import DesiredHostState
from neutrino.contract.messages import VersionMismatch

LOG = logging.getLogger(__name__)


def local_networks(state: DesiredHostState) -> set[str]:
    """The networks a state has this host on (as ``domain/projection/build.py`` counts them for
    its tunnel peers): its bound ports', the DHCP networks', its routers' ports'."""
    nets = {p.network_id for p in state.ports} | {n.network_id for n in state.dhcp_networks}
    for r in state.routers:
        nets |= {i.network_id for i in r.interfaces}
        if r.gateway is not None:
            nets.add(r.gateway.network_id)
    return nets


class DesiredSource:
    def __init__(self, client: AgentClient, ports_hints: bool) -> None:
        """``ports_hints``: an L2-only agent, which reuses its last state when only its own
        dataplane woke it (any agent merges the parts that hints name)."""
        self.client = client
        self.ports_hints = ports_hints
        self.cached: DesiredHostState | None = None
        self.supported = True
        self.fetched = {"whole": 0, "parts": 0, "refused": 0}
        """How each pass got its state: whole, parts merged, parts the merge refused."""
        self.reused = 0
        """Passes that took the last state as it was (an L2-only agent woken by OVSDB alone, or
        the pass after a vswitchd restart)."""
        self.why_whole: dict[str, int] = {}
        """Why passes fetched whole: first, unhinted, hint (one it cannot take), invalidated,
        unsupported, refused (the merge could not tell)."""
        self._why = "first"
        self._lock = threading.Lock()
        self._full = True
        self._hinted = False
        self._keep = False
        self._ports: set[str] = set()
        self._groups: set[str] = set()
        self._logged = 0  # the newest event-log number of the hints (the server's kept pieces)

    def hinted(self, msg: dict[str, Any]) -> None:
        """A ``host_changed``: remember what it names for the next pass, or that it must
        fetch all."""
        ports, groups = msg.get("ports"), msg.get("security_groups")
        usable = (
            not msg.get("resync") and not msg.get("more") and not msg.get("networks") and not msg.get("routers")
            and isinstance(ports, list) and isinstance(groups, list) and bool(ports or groups)
        )  # fmt: skip
        with self._lock:
            if not usable:
                self._full, self._why = True, "hint"
                return
            self._hinted = True
            logged = msg.get("logged")
            if isinstance(logged, int) and logged > self._logged:
                self._logged = logged
            self._ports.update(str(p) for p in ports)  # type: ignore[union-attr]
            self._groups.update(str(g) for g in groups)  # type: ignore[union-attr]

    def keep(self) -> None:
        """The next pass may reuse the last state: nothing the server knows changed (a vswitchd
        restart); a hint or an invalidation still wins."""
        with self._lock:
            self._keep = True

    def invalidate(self) -> None:
        """The next pass fetches the whole state (a failed pass, a resync)."""
        with self._lock:
            self._full, self._why = True, "invalidated"

    def _take(self, l2_only: bool = False) -> tuple[str, list[str], list[str], int]:
        """("whole" | "parts" | "reuse", ports, groups, the hints' newest event-log number) for
        this pass; clears what was noted."""
        with self._lock:
            if self._full or self.cached is None or not self.supported:
                how = "whole"
            elif self._hinted:
                how = "parts"
            elif self._keep or self.ports_hints or l2_only:  # a vswitchd restart, or the L2 role's own dataplane woke it
                how = "reuse"
            else:
                how = "whole"
            why = ("first" if self.cached is None else "unsupported" if not self.supported
                   else self._why if self._full else "unhinted")  # fmt: skip
            if how == "whole":
                self.why_whole[why] = self.why_whole.get(why, 0) + 1
            ports, groups, logged = sorted(self._ports), sorted(self._groups), self._logged
            self._full = self._hinted = self._keep = False
            self._ports.clear()
            self._groups.clear()
            self._logged = 0
        return how, ports, groups, logged

    def next_state(self, l2_only: bool = False) -> DesiredHostState:
        """The desired state for this pass (see the module's docstring for which way);
        ``l2_only``: the pass runs the L2 role alone (``agent/wake_roles.py``), so an agent with
        other roles too may reuse the last state when no notification came since."""
        how, ports, groups, logged = self._take(l2_only)
        if how == "reuse" and self.cached is not None:
            self.reused += 1
            return self.cached
        if how == "parts" and self.cached is not None:
            merged = None
            try:
                merged = merge(self.cached, self.client.desired_parts(ports, groups, logged=logged,
                                                                      local_networks=local_networks(self.cached)))
            except PartsUnsupported as exc:
                LOG.warning("agent %s: the server does not answer desired parts (%s): fetching whole states",
                            self.client.host, exc)  # fmt: skip
                self.supported = False
            except VersionMismatch as exc:
                LOG.info("agent %s: desired parts refused (%s): fetching the whole state", self.client.host, exc)
            except Exception:
                self.invalidate()
                raise
            if merged is not None:
                self.fetched["parts"] += 1
                self.cached = merged
                return merged
            self.fetched["refused"] += 1
            self.why_whole["refused"] = self.why_whole.get("refused", 0) + 1
        try:
            self.cached = self.client.desired_state()
        except Exception:
            self.invalidate()
            raise
        self.fetched["whole"] += 1
        return self.cached
