"""Assemble a ready server from settings: database, schema, identity bootstrap, app.

Kept apart from the CLI so tests and benchmarks build the very same server in-process.
"""

from __future__ import annotations

import dataclasses
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
from neutrino.domain.identity.bootstrap import bootstrap, write_client_files
from neutrino.domain.identity.tokens import TokenService
from neutrino.domain.ml2.manager import start as ml2_start
from neutrino.domain.models import Project
from neutrino.domain.services.common import DomainConfig
from neutrino.domain.services.enabled import enable as enable_extensions
from neutrino.plugins.api import load_service_plugins

LOG = logging.getLogger(__name__)
SYSTEM_STATE_DIR = Path("/var/lib/neutrino")


@dataclass
class Built:
    app: Any
    state: AppState
    admin_password: str | None


def domain_config(settings: ServerSettings) -> DomainConfig:
    """The settings the domain reads, copied field by field (lists become tuples)."""
    values: dict[str, object] = {}
    for f in dataclasses.fields(DomainConfig):
        if f.name == "quotas":
            values["quotas"] = settings.quota_defaults()
            continue
        value = getattr(settings, f.name)
        values[f.name] = tuple(value) if isinstance(value, list) else value
    return DomainConfig(**values)  # type: ignore[arg-type]


def bus_transport(settings: ServerSettings) -> Any:
    """RabbitMQ when ``transport_url`` is set (served and published there, reconnecting on its
    own), else None: the bus's in-process transport, with HTTP for agent processes."""
    if not settings.transport_url:
        return None
    from neutrino.bus.amqp import AmqpTransport

    return AmqpTransport(settings.transport_url, name="neutrino-server")


def build(settings: ServerSettings, *, write_files: bool = True, isolated_migrations: bool = False) -> Built:
    """``isolated_migrations``: run Alembic in a child process (the long-running server does)."""
    domain = domain_config(settings)
    # service plugins from entry points (a wrong name stops the server here, before any change)
    plugins = load_service_plugins(settings.service_plugins, domain)
    enable_extensions(
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
    # ML2 drivers from entry points (a wrong name stops the server here), allocation rows synced
    ml2_start(sessions, domain)
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
        bus=ServerBus(sessions, domain, read_sessions, transport=bus_transport(settings)),
    )
    return Built(app=create_app(state), state=state, admin_password=password)
