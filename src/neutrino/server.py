"""Assemble a ready server from settings: database, schema, identity bootstrap, app.

Kept apart from the CLI so tests and benchmarks build the very same server in-process. With
several API workers (``neutrino server --workers N``) the parent process runs ``prepare`` once
and each worker process builds its own app, engine and bus pieces with ``worker_app``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from neutrino.api.app import create_app
from neutrino.api.state import AppState
from neutrino.bus.server import ServerBus
from neutrino.config import ServerSettings
from neutrino.db.engine import HeldReadConnection, is_sqlite, make_engine, make_sessionmaker
from neutrino.client_files import write_client_files
from neutrino.db.leader import Leadership
from neutrino.db.migrate import HEAD_REVISION, require_head, upgrade_if_needed
from neutrino.domain.identity.bootstrap import bootstrap
from neutrino.domain.identity.tokens import TokenService
from neutrino.domain.ml2.manager import start as ml2_start
from neutrino.domain.models import Agent, Project
from neutrino.domain.models.base import utcnow
from neutrino.domain.config import DomainConfig
from neutrino.domain.scheduling.periodic import AgentStatusCheck
from neutrino.domain.services.enabled import assemble
from neutrino.domain.wiring import Domain
from neutrino.metrics.server import AgentAge, ServerMetrics
from neutrino.periodic import Periodic
from neutrino.domain.service_types import ServiceCatalog
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


def bus_transport(settings: ServerSettings) -> Any:
    """RabbitMQ when ``transport_url`` is set (served and published there, reconnecting on its
    own), else None: the bus's in-process transport, with HTTP for agent processes."""
    if not settings.transport_url:
        return None
    from neutrino.bus.amqp import AmqpTransport

    return AmqpTransport(settings.transport_url, name="neutrino-server")


def build(
    settings: ServerSettings, *, write_files: bool = True, isolated_migrations: bool = False, worker: bool = False
) -> Built:
    """``isolated_migrations``: run Alembic in a child process (the long-running server does).
    ``worker``: one of several API worker processes, started after ``prepare`` did the
    once-only work (schema, allocation rows, identity bootstrap, client files)."""
    domain, plugins = assemble_domain(settings)
    if worker:
        engine = make_engine(settings.db_url)
        require_head(engine)
        sessions = make_sessionmaker(engine)
        password = None  # prepare() synced the allocation rows and bootstrapped identity
    else:
        engine, password = _prepare(settings, domain, write_files=write_files, isolated_migrations=isolated_migrations)
        sessions = make_sessionmaker(engine)
    with sessions() as session:
        admin_project = session.scalar(
            select(Project.id).where(Project.name == "admin", Project.domain_id == "default")
        )
    sqlite = is_sqlite(settings.db_url)
    read_engine = make_engine(settings.db_url, read_only=True) if sqlite else engine
    read_sessions = make_sessionmaker(read_engine)
    metrics = ServerMetrics(agent_ages=lambda: _agent_ages(read_sessions))
    state = AppState(
        settings=settings,
        engine=engine,
        sessions=sessions,
        read_sessions=read_sessions,
        db_in_threadpool=not sqlite,
        held_reads=HeldReadConnection(read_engine) if sqlite else None,
        tokens=TokenService(sessions, settings.token_expiration),
        domain=domain,
        default_project_id=admin_project,
        service_plugins=plugins,
        bus=ServerBus(sessions, domain, read_sessions, transport=bus_transport(settings), metrics=metrics),
        metrics=metrics,
        periodic=_periodic_jobs(sessions, domain, engine),
    )
    return Built(app=create_app(state), state=state, admin_password=password)


def _agent_ages(read_sessions: Any) -> list[AgentAge]:
    """Each agent's seconds since its last heartbeat, for ``/metrics`` (read when scraped)."""
    now = utcnow()
    with read_sessions() as session:
        rows = session.execute(select(Agent.host, Agent.agent_type, Agent.heartbeat_timestamp)).all()
    return [(host, kind, max(0.0, (now - beat).total_seconds())) for host, kind, beat in rows]


def assemble_domain(settings: ServerSettings) -> tuple[Domain, list[Any]]:
    """This server's domain: service plugins and ML2 drivers from entry points (a wrong name
    stops the server here, before any change) and the extension hooks, in their order."""
    config = domain_config(settings)
    plugins = load_service_plugins(settings.service_plugins, config)
    domain = assemble(
        config,
        [e for p in plugins for e in p.network_extensions()],
        [e for p in plugins for e in p.port_extensions()],
        services=ServiceCatalog.of((p.plugin_type for p in plugins), (s for p in plugins for s in p.service_providers())),
    )
    return domain, plugins


def _periodic_jobs(sessions: Any, domain: DomainConfig, engine: Engine) -> list[Periodic]:
    """The agent status check (failover of DHCP and L3 away from dead agents), when it is on;
    with several API workers only the holder of the leadership lock runs its rounds."""
    check = AgentStatusCheck(sessions, domain)
    if not check.enabled:
        return []
    leadership = Leadership(engine)

    def round_if_leader() -> None:
        if leadership.held():
            check.run_once()

    return [Periodic("agent-status-check", check.interval, round_if_leader, on_start=check.restart,
                     on_stop=leadership.release)]  # fmt: skip


def prepare(settings: ServerSettings, *, write_files: bool = True, isolated_migrations: bool = True) -> str | None:
    """The once-only work of a start with several workers, done before any of them starts
    (in the parent process, with an engine of its own that is closed again). Returns the admin
    password the bootstrap generated, if it did."""
    domain, _ = assemble_domain(settings)  # a wrong plugin or driver name stops the start here
    engine, password = _prepare(settings, domain, write_files=write_files, isolated_migrations=isolated_migrations)
    engine.dispose()
    return password


def _prepare(
    settings: ServerSettings, domain: Domain, *, write_files: bool, isolated_migrations: bool
) -> tuple[Engine, str | None]:
    # the database holds password hashes and the token signing key: owner-only
    settings.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    if settings.migrate:
        if upgrade_if_needed(engine, isolated=isolated_migrations):
            LOG.info("database schema upgraded to %s", HEAD_REVISION)
    else:
        require_head(engine)
    db_file = settings.state_dir / "neutrino.db"
    if settings.database_url is None and db_file.exists():
        db_file.chmod(0o600)
    sessions = make_sessionmaker(engine)
    # ML2 drivers from entry points (a wrong name stops the server here), allocation rows synced
    ml2_start(sessions, domain.ml2)
    password = bootstrap(sessions, settings)
    if write_files:
        system_wide = settings.state_dir.resolve() == SYSTEM_STATE_DIR
        write_client_files(settings, password, install_system_wide=system_wide)
    return engine, password


WORKER_SETTINGS_ENV = "NEUTRINO_WORKER_SETTINGS"


def worker_app() -> Any:
    """The ASGI app of one API worker of ``neutrino server --workers N`` (uvicorn's factory,
    run in each worker process): the settings come from the parent in the environment."""
    from neutrino.malloc import tune_malloc

    _exit_with_parent()
    tune_malloc()
    settings = ServerSettings.model_validate_json(os.environ[WORKER_SETTINGS_ENV])
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"
    )
    app = build(settings, write_files=False, worker=True).app
    from neutrino.gc_tuning import freeze_startup_objects

    freeze_startup_objects()
    return app


def _exit_with_parent() -> None:
    """Have the kernel send this worker SIGTERM when the parent (uvicorn's supervisor, the pid
    an operator or the lab stops) dies, even by SIGKILL: no worker outlives its server."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the parent's normal shutdown still stops us
        return
    if os.getppid() == 1:  # the parent died before the call
        os.kill(os.getpid(), signal.SIGTERM)
