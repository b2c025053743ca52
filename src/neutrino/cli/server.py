"""``neutrino server``: the Neutron-compatible API (and identity) on one port."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

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
@click.option("--transport-url", default=None, help="the agents' bus on RabbitMQ: amqp://user:password@host:5672/vhost")
def server(
    config_file: Path | None,
    host: str | None,
    port: int | None,
    state_dir: Path | None,
    auth: str | None,
    database_url: str | None,
    transport_url: str | None,
) -> None:
    """Run the Neutron API v2.0 server with its Keystone-compatible identity service."""
    from neutrino.server import build

    try:
        settings = load_server_settings(
            config_file, host=host, port=port, state_dir=state_dir, auth=auth, database_url=database_url,
            transport_url=transport_url,
        )
    except ValidationError as exc:  # one line per bad setting, not pydantic's report
        raise click.ClickException("; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors())) from None  # fmt: skip
    except (FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from neutrino.entrypoints import LoadError

    try:
        built = build(settings, isolated_migrations=True)
    except LoadError as exc:  # a wrong driver or plugin name, or range, in the settings
        raise click.ClickException(str(exc)) from exc
    out = click.echo
    out(f"neutrino server on {settings.url} (auth: {settings.auth}, database: {settings.db_url})", err=True)
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
        if built.admin_password and not settings.admin_password:
            out(f"admin password (generated, also in clouds.yaml): {built.admin_password}", err=True)
    sys.stderr.flush()
    uvicorn.run(
        built.app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.log_level == "debug",
        loop="uvloop",
        http="httptools",
    )
