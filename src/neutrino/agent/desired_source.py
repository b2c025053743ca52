"""Where each pass's desired state comes from: the last one with the parts a notification
named merged in, or the whole state fetched again.

``host_changed`` names the ports and security groups whose change reached this host
(``domain/notify/hosts.py``). When every notification since the last pass named only those,
and this agent can take them (any agent for groups; an L2-only agent for ports too: a DHCP or
L3 agent holds other hosts' ports), the pass asks the server for those parts alone
(``get_desired_parts``) and merges them (``desired_merge.py``). Everything else fetches the
whole state, as before: the first pass, a wake-up with no hint (OVSDB, a retry, the periodic
resync), a reconnect's "look again", hints that were cut short or name networks or routers, a
merge that cannot tell, an older server. Correctness first: in doubt, fetch all.
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


class DesiredSource:
    def __init__(self, client: AgentClient, ports_hints: bool) -> None:
        """``ports_hints``: whether hints naming ports can be merged (an L2-only agent)."""
        self.client = client
        self.ports_hints = ports_hints
        self.cached: DesiredHostState | None = None
        self.supported = True
        self.fetched = {"whole": 0, "parts": 0, "refused": 0}
        """How each pass got its state: whole, parts merged, parts the merge refused."""
        self.why_whole: dict[str, int] = {}
        """Why passes fetched whole: first, unhinted, hint (one it cannot take), invalidated,
        unsupported, refused (the merge could not tell)."""
        self._why = "first"
        self._lock = threading.Lock()
        self._full = True
        self._hinted = False
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
            and (self.ports_hints or not ports)
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

    def invalidate(self) -> None:
        """The next pass fetches the whole state (a failed pass, a resync)."""
        with self._lock:
            self._full, self._why = True, "invalidated"

    def _take(self) -> tuple[bool, list[str], list[str], int]:
        with self._lock:
            whole = self._full or not self._hinted or self.cached is None or not self.supported
            why = ("first" if self.cached is None else "unsupported" if not self.supported
                   else self._why if self._full else "unhinted")  # fmt: skip
            if whole:
                self.why_whole[why] = self.why_whole.get(why, 0) + 1
            ports, groups, logged = sorted(self._ports), sorted(self._groups), self._logged
            self._full = self._hinted = False
            self._ports.clear()
            self._groups.clear()
            self._logged = 0
        return whole, ports, groups, logged

    def next_state(self) -> DesiredHostState:
        """The desired state for this pass (see the module's docstring for which way)."""
        whole, ports, groups, logged = self._take()
        if not whole and self.cached is not None:
            merged = None
            try:
                merged = merge(self.cached, self.client.desired_parts(ports, groups, logged=logged))
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
