"""Assemble a ready server from settings: database, schema, identity bootstrap, app.

Kept apart from the CLI so tests and benchmarks build the very same server in-process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from neutrino.api.app import create_app
from neutrino.api.state import AppState
from neutrino.bus.server import ServerBus
from neutrino.config import ServerSettings
from neutrino.db.engine import is_sqlite, make_engine, make_sessionmaker
from neutrino.db.migrate import upgrade_if_needed
from neutrino.client_files import write_client_files
from neutrino.domain.identity.bootstrap import bootstrap
from neutrino.domain.identity.tokens import TokenService
from neutrino.domain.ml2.manager import start as ml2_start
from neutrino.domain.models import Project
from neutrino.domain.scheduling.periodic import AgentStatusCheck
from neutrino.domain.config import DomainConfig
from neutrino.domain.services.enabled import assemble
from neutrino.periodic import Periodic
from neutrino.plugins.api import load_service_plugins

LOG = logging.getLogger(__name__)
SYSTEM_STATE_DIR = Path("/var/lib/neutrino")


@dataclass
class Built:
    app: Any
    state: AppState
    admin_password: str | None


def domain_config(settings: ServerSettings) -> DomainConfig:
    """The settings the domain reads (and nothing else of the server's)."""
    return DomainConfig.of(settings)


def build(settings: ServerSettings, *, write_files: bool = True, isolated_migrations: bool = False) -> Built:
    """``isolated_migrations``: run Alembic in a child process (the long-running server does)."""
    config = domain_config(settings)
    # service plugins from entry points (a wrong name stops the server here, before any change)
    plugins = load_service_plugins(settings.service_plugins, config)
    # this server's own ML2 drivers (a wrong name stops the server here) and extension hooks
    domain = assemble(
        config,
        [e for p in plugins for e in p.network_extensions()],
        [e for p in plugins for e in p.port_extensions()],
    )
    # the database holds password hashes and the token signing key: owner-only
    settings.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    upgrade_if_needed(engine, isolated=isolated_migrations)
    db_file = settings.state_dir / "neutrino.db"
    if settings.database_url is None and db_file.exists():
        db_file.chmod(0o600)
    sessions = make_sessionmaker(engine)
    # allocation rows synced with the configured ranges
    ml2_start(sessions, domain.ml2)
    password = bootstrap(sessions, settings)
    if write_files:
        system_wide = settings.state_dir.resolve() == SYSTEM_STATE_DIR
        write_client_files(settings, password, install_system_wide=system_wide)
    with sessions() as session:
        admin_project = session.scalar(
            select(Project.id).where(Project.name == "admin", Project.domain_id == "default")
        )
    sqlite = is_sqlite(settings.db_url)
    read_engine = make_engine(settings.db_url, read_only=True) if sqlite else engine
    read_sessions = make_sessionmaker(read_engine)
    state = AppState(
        settings=settings,
        engine=engine,
        sessions=sessions,
        read_sessions=read_sessions,
        db_in_threadpool=not sqlite,
        tokens=TokenService(sessions, settings.token_expiration),
        domain=domain,
        default_project_id=admin_project,
        service_plugins=plugins,
        bus=ServerBus(sessions, domain, read_sessions),
        periodic=_periodic_jobs(sessions, domain),
    )
    return Built(app=create_app(state), state=state, admin_password=password)


def _periodic_jobs(sessions: Any, domain: DomainConfig) -> list[Periodic]:
    """The agent status check (failover of DHCP and L3 away from dead agents), when it is on."""
    check = AgentStatusCheck(sessions, domain)
    if not check.enabled:
        return []
    return [Periodic("agent-status-check", check.interval, check.run_once, on_start=check.restart)]
