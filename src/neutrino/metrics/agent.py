"""An agent process's metrics: reconcile passes, the changes they applied, heartbeat age, bus lag.

The agent (``agent/runner.py``) observes a pass's duration and what it changed per role, the
time since its last successful state report (a gauge read at scrape time), and how long a
``host_changed`` notification took from the server's publish to this process (from the
message's ``sent_at``; on real hosts as exact as their clocks are synchronised).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from neutrino.metrics.buckets import SECONDS


class AgentMetrics:
    def __init__(self, host: str, clock: Callable[[], float] = time.time) -> None:
        self.host = host
        self.clock = clock
        self.registry = CollectorRegistry()
        self.pass_duration = Histogram(
            "neutrino_agent_reconcile_seconds", "Duration of one reconcile pass (fetch, plan, apply, report)",
            buckets=SECONDS, registry=self.registry,
        )  # fmt: skip
        self.changes = Counter(
            "neutrino_agent_changes_applied", "Dataplane changes applied by reconcile passes, per role and kind",
            ["role", "kind"], registry=self.registry,
        )  # fmt: skip
        self.failures = Counter(
            "neutrino_agent_reconcile_failures", "Reconcile passes that failed and were retried", registry=self.registry
        )
        self.bus_lag = Histogram(
            "neutrino_agent_bus_lag_seconds", "From the server publishing host_changed to this agent receiving it",
            buckets=SECONDS, registry=self.registry,
        )  # fmt: skip
        self.drift_found = Counter(
            "neutrino_drift_found", "Drift the audit found on this host (desired state vs dataplane), per kind",
            ["kind"], registry=self.registry,
        )  # fmt: skip
        self.drift_repaired = Counter(
            "neutrino_drift_repaired", "Drift the audit's repair removed, per kind", ["kind"], registry=self.registry
        )
        self._last_report: float | None = None
        age = Gauge(
            "neutrino_agent_heartbeat_age_seconds_local",
            "Seconds since this agent's last successful state report (-1 before the first)",
            registry=self.registry,
        )
        age.set_function(self.heartbeat_age)

    def reported(self) -> None:
        self._last_report = self.clock()

    def heartbeat_age(self) -> float:
        return -1.0 if self._last_report is None else max(0.0, self.clock() - self._last_report)

    def notified(self, sent_at: float | None) -> None:
        if sent_at is not None:
            self.bus_lag.observe(max(0.0, self.clock() - sent_at))

    def applied(self, role: str, counts: dict[str, int]) -> None:
        for kind, n in counts.items():
            if n:
                self.changes.labels(role, kind).inc(n)

    def render(self) -> bytes:
        return generate_latest(self.registry)
