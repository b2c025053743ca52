"""The server's agent status check: one round of failover, as the server runs it periodically.

A round runs ``reschedule_dead_agents`` in a transaction of its own. Right after the server
starts every agent may look dead only because the server was down, so nothing is moved until
the server has been up for the dead limit itself, giving the agents time to report (Neutron's
``wait_down_agents``). The check starts no thread: the composition root (``neutrino.server``)
runs ``run_once`` every ``interval`` seconds on a ``neutrino.periodic.Periodic`` and calls
``restart`` when that starts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from neutrino.db.engine import run_in_transaction
from neutrino.domain.config import DomainConfig
from neutrino.domain.models.base import utcnow
from neutrino.domain.scheduling import choice
from neutrino.domain.scheduling.failover import Moved, reschedule_dead_agents

LOG = logging.getLogger(__name__)


class AgentStatusCheck:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        cfg: DomainConfig,
        *,
        interval: float | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.cfg = cfg
        self.interval = interval if interval is not None else max(cfg.agent_down_time / 2, 1.0)
        self.clock = clock
        self.started_at = clock()

    @property
    def enabled(self) -> bool:
        """Whether there is anything to do: automatic failover of DHCP or L3 is on."""
        return self.cfg.allow_automatic_dhcp_failover or self.cfg.allow_automatic_l3agent_failover

    def restart(self) -> None:
        """The server starts serving now: the grace period counts from here."""
        self.started_at = self.clock()

    def in_grace_period(self, now: datetime) -> bool:
        return now - self.started_at < choice.dead_limit(self.cfg.agent_down_time)

    def run_once(self, now: datetime | None = None) -> list[Moved]:
        now = now or self.clock()
        if self.in_grace_period(now):
            return []
        moves = run_in_transaction(self.sessions, lambda s: reschedule_dead_agents(s, self.cfg, now))
        for move in moves:
            LOG.info("%s %s moved from agent %s to %s", move.kind, move.resource_id, move.from_agent, move.to_agent)
        return moves
