"""What the running app shares between requests (settings, database, tokens)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from neutrino.config import ServerSettings
from neutrino.domain.wiring import Domain


@dataclass
class AppState:
    settings: ServerSettings
    engine: Engine
    sessions: sessionmaker[Session]
    tokens: Any
    domain: Domain
    """The settings the domain reads, its ML2 drivers and extensions (one per server)."""
    read_sessions: sessionmaker[Session] | None = None
    """Sessions for read-only requests (on SQLite: deferred transactions, no write lock)."""
    db_in_threadpool: bool = True
    """Run database work in worker threads. Off for SQLite, whose sub-millisecond local calls
    cost less than the thread hop and which serialises writers anyway."""
    held_reads: Any = None
    """``db.engine.HeldReadConnection`` for read-only Core units of work run inline (SQLite)."""
    default_project_id: str | None = None
    """The project a no-auth request acts for when it names none (the bootstrap admin project)."""
    service_plugins: list[Any] = field(default_factory=list)
    """Loaded ``neutrino.plugins.api.ServicePlugin`` objects, in configured order."""
    bus: Any = None
    """The agent bus the /bus/v1 routes expose (``bus.server.ServerBus``), when there is one."""
    metrics: Any = None
    """The server's ``metrics.server.ServerMetrics`` (``/metrics``), when it keeps them."""
    periodic: list[Any] = field(default_factory=list)
    """Jobs the server runs while it serves (``neutrino.periodic.Periodic``), started and
    stopped by the app's lifespan."""

    def close(self) -> None:
        if self.held_reads is not None:
            self.held_reads.close()
        if self.bus is not None:
            self.bus.close()
        self.engine.dispose()
        if self.read_sessions is not None:
            bind = self.read_sessions.kw.get("bind")
            if bind is not None and bind is not self.engine:
                bind.dispose()
