"""The agent's audit: find drift, count it, and repair it with the reconcilers' own pass.

Repair is level-triggered and changes only what the reconcilers own: the agent forgets what it
remembers having applied (flow tables, the NAT and firewall tables' text, dnsmasq adopted), so
its next pass compares against the host itself, and runs that pass. The reconcilers never touch
a bridge, port, flow (another cookie), table or namespace that is not theirs, so neither does
the repair. The audit is run again after the pass (a second pass runs if drift is left); what
it no longer finds was repaired.
Runs periodically (``audit_interval``; repairing when ``audit_repair``) and on a request from
the server (``neutrino audit``, ``GET /v2.0/audit``), never at the same time as a pass.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from neutrino.tools.audit import drift
from neutrino.agent.audit.host import audit

LOG = logging.getLogger(__name__)
REPAIR_PASSES = 2


class Auditor:
    def __init__(self, agent: Any) -> None:
        self.agent = agent
        self.last: dict[str, Any] | None = None

    def _desired(self) -> Any:
        """What the dataplane should hold: the agent's last desired state, which notifications
        keep current (and its periodic resync checks), else a whole fetch. A periodic audit on
        every host fetching whole states would cost the server as much as the hosts' changes:
        at a thousand hosts and one audit a minute, 17 whole projections a second."""
        cached = getattr(getattr(self.agent, "desired", None), "cached", None)
        return cached if cached is not None else self.agent.client.desired_state()

    def run(self, repair: bool) -> dict[str, Any]:
        """``{"host", "drift", "repaired", "remaining", "wired", "audit_seconds", "repair_seconds"}``."""
        agent = self.agent
        with agent.lock:
            started = time.monotonic()
            found, wired = audit(agent, self._desired())
            audited = time.monotonic()
            for kind, n in drift.by_kind(found).items():
                agent.metrics.drift_found.labels(kind).inc(n)
            repaired: list[drift.Drift] = []
            remaining = found
            repair_seconds = None
            if repair and found:
                for _ in range(REPAIR_PASSES):  # a second pass sees what the first created (a new port's ofport)
                    agent.forget_applied()
                    agent.reconcile_once()
                    remaining, wired = audit(agent, self._desired())
                    if not remaining:
                        break
                repaired = sorted(set(found) - set(remaining))
                repair_seconds = round(time.monotonic() - audited, 3)
                for kind, n in drift.by_kind(repaired).items():
                    agent.metrics.drift_repaired.labels(kind).inc(n)
        for d in found:
            LOG.warning("agent %s: audit: drift %s%s", agent.host.name, d.line(),
                        " (repaired)" if d in repaired else "")  # fmt: skip
        self.last = {
            "host": agent.host.name,
            "drift": [d.as_dict() for d in found],
            "repaired": [d.as_dict() for d in repaired],
            "remaining": [d.as_dict() for d in remaining] if repair else [d.as_dict() for d in found],
            "wired": wired,
            "audit_seconds": round(audited - started, 3),
            "repair_seconds": repair_seconds,
        }
        return self.last
