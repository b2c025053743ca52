"""The server's agent status check: run failover every ``agent_down_time / 2`` seconds.

A daemon thread (the API's event loop never waits for it) runs ``reschedule_dead_agents`` in a
transaction of its own. Right after the server starts every agent may look dead only because
the server was down, so nothing is moved until the server has been up for the dead limit
itself, giving the agents time to report (Neutron's ``wait_down_agents``). ``stop`` wakes the
thread and joins it, so shutdown is prompt and never leaves a transaction half done.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from neutrino.db.engine import run_in_transaction
from neutrino.domain.models.base import utcnow
from neutrino.domain.scheduling import choice
from neutrino.domain.scheduling.failover import Moved, reschedule_dead_agents
from neutrino.domain.services.common import DomainConfig

LOG = logging.getLogger(__name__)


class AgentStatusCheck:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        cfg: DomainConfig,
        *,
        interval: float | None = None,
        clock: Callable[[], datetime] = utcnow,
        gate: Callable[[], bool] = lambda: True,
    ) -> None:
        """``gate``: asked before each round; with several API workers only the one it answers
        True in runs the check (``db/leader.py``)."""
        self.sessions = sessions
        self.gate = gate
        self.cfg = cfg
        self.interval = interval if interval is not None else max(cfg.agent_down_time / 2, 1.0)
        self.clock = clock
        self.started_at = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self.cfg.allow_automatic_dhcp_failover or self.cfg.allow_automatic_l3agent_failover

    def in_grace_period(self, now: datetime) -> bool:
        return now - self.started_at < choice.dead_limit(self.cfg.agent_down_time)

    def run_once(self, now: datetime | None = None) -> list[Moved]:
        now = now or self.clock()
        if self.in_grace_period(now):
            return []
        moves = run_in_transaction(self.sessions, lambda s: reschedule_dead_agents(s, self.cfg, now))
        for m in moves:
            LOG.info("%s %s moved from agent %s to %s", m.kind, m.resource_id, m.from_agent, m.to_agent)
        return moves

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if self.gate():
                    self.run_once()
            except Exception:  # noqa: BLE001 - a failed round must not end the check
                LOG.exception("agent status check failed; trying again in %.0fs", self.interval)

    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        self.started_at = self.clock()
        self._thread = threading.Thread(target=self._loop, name="agent-status-check", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
