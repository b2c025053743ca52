"""``neutrino server``: the Neutron-compatible API (and identity) on one port."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import click
import uvicorn
from pydantic import ValidationError

from neutrino.config import load_server_settings


@click.command()
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="TOML settings file")
@click.option("--host", default=None, help="address to listen on [127.0.0.1]")
@click.option("--port", type=int, default=None, help="port to listen on [9696]")
@click.option("--state-dir", type=click.Path(path_type=Path), default=None, help="[/var/lib/neutrino]")
@click.option("--auth", type=click.Choice(["keystone", "noauth"]), default=None, help="[keystone]")
@click.option("--database-url", default=None, help="SQLAlchemy URL [sqlite:///<state-dir>/neutrino.db]")
@click.option("--workers", type=int, default=None, help="API worker processes; >1 needs PostgreSQL [1]")
@click.option(
    "--migrate/--no-migrate", default=None, help="upgrade the schema at start, or leave it to `neutrino db upgrade`"
)
@click.option("--transport-url", default=None, help="the agents' bus on RabbitMQ: amqp://user:password@host:5672/vhost")
def server(
    config_file: Path | None,
    host: str | None,
    port: int | None,
    state_dir: Path | None,
    auth: str | None,
    database_url: str | None,
    workers: int | None,
    migrate: bool | None,
    transport_url: str | None,
) -> None:
    """Run the Neutron API v2.0 server with its Keystone-compatible identity service."""
    from neutrino.db.engine import is_sqlite
    from neutrino.server import WORKER_SETTINGS_ENV, build, prepare

    try:
        settings = load_server_settings(
            config_file, host=host, port=port, state_dir=state_dir, auth=auth, database_url=database_url,
            workers=workers, migrate=migrate, transport_url=transport_url,
        )  # fmt: skip
    except ValidationError as exc:  # one line per bad setting, not pydantic's report
        raise click.ClickException("; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors())) from None  # fmt: skip
    except (FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    if settings.workers > 1 and is_sqlite(settings.db_url):
        raise click.ClickException(
            f"{settings.workers} workers need PostgreSQL (database_url = \"postgresql+psycopg://...\"): "
            "SQLite serves one worker"
        )
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from sqlalchemy.exc import OperationalError

    from neutrino.db.migrate import SchemaNotCurrent
    from neutrino.entrypoints import LoadError

    app: Any
    try:
        if settings.workers == 1:
            built = build(settings, isolated_migrations=True)
            app, password = built.app, built.admin_password
        else:  # once here, then each worker process builds its own app (neutrino.server.worker_app)
            password = prepare(settings, isolated_migrations=True)
            os.environ[WORKER_SETTINGS_ENV] = settings.model_dump_json()
            app = "neutrino.server:worker_app"
    except (LoadError, SchemaNotCurrent) as exc:  # a wrong name or range; a schema to upgrade
        raise click.ClickException(str(exc)) from exc
    except OperationalError as exc:  # no database there, or it refused us
        reason = str(exc.orig or exc).splitlines()[0]
        raise click.ClickException(f"cannot use the database {_shown(settings.db_url)}: {reason}") from exc
    out = click.echo
    out(f"neutrino server on {settings.url} (auth: {settings.auth}, database: {_shown(settings.db_url)}, "
        f"workers: {settings.workers})", err=True)  # fmt: skip
    if settings.transport_url:
        from neutrino.bus.broker_errors import redact

        out(f"agents' bus: {redact(settings.transport_url)}", err=True)
    if settings.auth == "keystone":
        out(f"identity: {settings.url}/identity/v3", err=True)
        from neutrino.server import SYSTEM_STATE_DIR

        if settings.state_dir.resolve() == SYSTEM_STATE_DIR:
            out("clients: OS_CLOUD=neutrino openstack network list", err=True)
        else:
            out(
                f"clients: OS_CLIENT_CONFIG_FILE={settings.state_dir / 'clouds.yaml'} "
                "OS_CLOUD=neutrino openstack network list",
                err=True,
            )
        out(f"     or: source {settings.state_dir / 'openrc'}", err=True)
        if password and not settings.admin_password:
            out(f"admin password (generated, also in clouds.yaml): {password}", err=True)
    sys.stderr.flush()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.log_level == "debug",
        loop="uvloop",
        http="httptools",
        workers=settings.workers if settings.workers > 1 else None,
        factory=settings.workers > 1,
        # a worker starts a fresh interpreter and builds its app before it answers the
        # supervisor's first ping; on a busy machine that takes longer than uvicorn's 5 s
        timeout_worker_healthcheck=30,
    )


def _shown(url: str) -> str:
    """The database URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
