"""The server's metrics: API latency per route, port create -> ACTIVE, bus lag, agent heartbeats.

``ServerMetrics`` is built by the composition root (``neutrino.server``) and handed to the API
(a middleware observes every request) and to the bus (which observes ports turning ACTIVE and
the notifier's passes). Heartbeat ages are read from the database when scraped, through the
``agent_ages`` callable, so they are exact at every scrape and cost nothing in between.

With several API workers each worker is its own process: prometheus_client's multiprocess mode
(``PROMETHEUS_MULTIPROC_DIR``, set by ``neutrino server`` before the workers start) sums their
counters and histograms at scrape time, whichever worker answers.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from neutrino.metrics.buckets import SECONDS

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

AgentAge = tuple[str, str, float]
"""(host, agent type, seconds since its last heartbeat)."""


class _AgentAges(Collector):
    """``neutrino_agent_heartbeat_age_seconds`` per agent, read when scraped."""

    def __init__(self, source: Callable[[], Iterable[AgentAge]]) -> None:
        self.source = source

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "neutrino_agent_heartbeat_age_seconds", "Seconds since the agent's last state report, as the server saw it",
            labels=["host", "agent_type"],
        )  # fmt: skip
        for host, agent_type, age in self.source():
            family.add_metric([host, agent_type], age)
        yield family


PENDING_PORTS = 10_000
"""Ports created and not yet ACTIVE whose creation time is remembered (the oldest forgotten)."""


class ServerMetrics:
    """Per server process. Port create -> ACTIVE pairs the creation this process answered with
    the activation an agent reported to it: with several API workers a pair split across two
    workers is not measured (a sample, not a census); the rest is exact."""

    def __init__(self, agent_ages: Callable[[], Iterable[AgentAge]] | None = None) -> None:
        self._created: OrderedDict[str, float] = OrderedDict()
        self._created_lock = threading.Lock()
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        # in multiprocess mode the values live in files; the registry is built per scrape
        self._registry: CollectorRegistry | None = None if self.multiprocess else CollectorRegistry()
        self._agent_ages = agent_ages
        self.api_latency = Histogram(
            "neutrino_api_request_duration_seconds", "API request latency, by method, route template and status",
            ["method", "route", "status"], buckets=SECONDS, registry=self._registry,
        )  # fmt: skip
        self.port_active = Histogram(
            "neutrino_port_create_to_active_seconds", "From a port's creation to its first ACTIVE status",
            buckets=SECONDS, registry=self._registry,
        )  # fmt: skip
        self.notify_lag = Histogram(
            "neutrino_bus_notify_lag_seconds",
            "From a committed change to host_changed published to the hosts it touched (the notifier's pass)",
            buckets=SECONDS, registry=self._registry,
        )  # fmt: skip
        if self._registry is not None and agent_ages is not None:
            self._registry.register(_AgentAges(agent_ages))

    def ports_created(self, port_ids: Iterable[str]) -> None:
        now = time.monotonic()
        with self._created_lock:
            for port_id in port_ids:
                self._created[port_id] = now
            while len(self._created) > PENDING_PORTS:
                self._created.popitem(last=False)

    def ports_activated(self, port_ids: Iterable[str]) -> None:
        now = time.monotonic()
        with self._created_lock:
            started = [self._created.pop(p, None) for p in port_ids]
        for t in started:
            if t is not None:
                self.port_active.observe(now - t)

    def render(self) -> bytes:
        """The text exposition format of everything this server (all its workers) measured."""
        if self._registry is not None:
            return generate_latest(self._registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        if self._agent_ages is not None:
            registry.register(_AgentAges(self._agent_ages))
        return generate_latest(registry)


def prepare_multiprocess_dir(path: Any) -> None:
    """Empty ``path`` and point prometheus_client's multiprocess mode at it, before any worker
    starts (files of an earlier run would be summed in)."""
    import shutil
    from pathlib import Path

    path = Path(path)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(mode=0o700, parents=True)
    os.environ[MULTIPROC_ENV] = str(path)
