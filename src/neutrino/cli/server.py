"""``neutrino server``: the Neutron-compatible API (and identity) on one port.

One server per state directory: ``server.pid`` in it is held locked (``fcntl``) while the server
runs, so a second server on the same directory (the same database, the same client files)
refuses to start and names the first. ``--background`` starts the server detached and returns
once it answers, logging to ``server.log`` beside the pidfile (stop it with ``kill``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import click
import uvicorn
from pydantic import ValidationError

from neutrino.config import ServerSettings, load_server_settings

PIDFILE = "server.pid"
LOGFILE = "server.log"
BACKGROUND_TIMEOUT = 60.0


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
@click.option("--background", is_flag=True, help="run detached; return once it answers (log: <state-dir>/server.log)")
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
    background: bool,
) -> None:
    """Run the Neutron API v2.0 server with its Keystone-compatible identity service."""
    from neutrino.db.engine import is_sqlite

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
    settings.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if background:
        hold_state_dir(settings.state_dir).close()  # refuse now if another server holds it
        check_port_free(settings.host, settings.port)
        _start_in_background(settings)
        return
    lock = hold_state_dir(settings.state_dir)
    check_port_free(settings.host, settings.port)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from neutrino.api.access_log import logging_config
    from neutrino.api.one_write import OneWriteHttpToolsProtocol
    from neutrino.malloc import tune_malloc

    tune_malloc()
    try:
        app, password = _app(settings)
        _banner(settings, password)
        if settings.workers == 1:  # (each worker freezes its own, neutrino.server.worker_app)
            from neutrino.gc_tuning import freeze_startup_objects

            freeze_startup_objects()
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            access_log=settings.access_log,
            log_config=logging_config(),  # uvicorn's, with a cheaper formatter for the same access line
            loop="uvloop",
            # httptools' protocol, with each response's head and body sent in one write
            http=OneWriteHttpToolsProtocol,
            # no route is a WebSocket: without this uvicorn loads a WebSocket protocol (0.8 MiB)
            ws="none",
            # no "server: uvicorn" header: the implementation is nobody's business (Neutron's
            # API sends none of its own either)
            server_header=False,
            workers=settings.workers if settings.workers > 1 else None,
            factory=settings.workers > 1,
            # a worker starts a fresh interpreter and builds its app before it answers the
            # supervisor's first ping; on a busy machine that takes longer than uvicorn's 5 s
            timeout_worker_healthcheck=30,
        )
    finally:
        lock.close()


def _app(settings: ServerSettings) -> tuple[Any, str | None]:
    """The app to serve (or, with several workers, the factory each worker runs) and the admin
    password the first start generated, if it did."""
    from sqlalchemy.exc import OperationalError

    from neutrino.db.migrate import SchemaNotCurrent
    from neutrino.entrypoints import LoadError
    from neutrino.server import WORKER_SETTINGS_ENV, build, prepare

    try:
        if settings.workers == 1:
            built = build(settings, isolated_migrations=True)
            return built.app, built.admin_password
        # once here, then each worker process builds its own app (neutrino.server.worker_app)
        password = prepare(settings, isolated_migrations=True)
        from neutrino.metrics.server import prepare_multiprocess_dir

        prepare_multiprocess_dir(settings.state_dir / "metrics")  # the workers' metrics, summed
        os.environ[WORKER_SETTINGS_ENV] = settings.model_dump_json()
        return "neutrino.server:worker_app", password
    except (LoadError, SchemaNotCurrent) as exc:  # a wrong name or range; a schema to upgrade
        raise click.ClickException(str(exc)) from exc
    except OperationalError as exc:  # no database there, or it refused us
        reason = str(exc.orig or exc).splitlines()[0]
        raise click.ClickException(f"cannot use the database {_shown(settings.db_url)}: {reason}") from exc


def hold_state_dir(state_dir: Path) -> IO[str]:
    """Lock ``<state_dir>/server.pid`` for this process's lifetime and write our pid in it."""
    path = state_dir / PIDFILE
    handle = open(path, "a+")  # noqa: SIM115 - held open (and locked) until the process exits
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        other = handle.read().strip() or "?"
        handle.close()
        raise click.ClickException(
            f"state directory {state_dir} is in use by another neutrino server (pid {other}, {path}); "
            "stop it or give another --state-dir"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def check_port_free(host: str, port: int) -> None:
    """Refuse before building anything (and before the banner) when the address is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _banner(settings: ServerSettings, generated_password: str | None) -> None:
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
            out("clients: OS_CLOUD=neutrino ./dev openstack network list", err=True)
        else:
            out(
                f"clients: OS_CLIENT_CONFIG_FILE={settings.state_dir / 'clouds.yaml'} "
                "OS_CLOUD=neutrino ./dev openstack network list",
                err=True,
            )
        out(f"     or: source {settings.state_dir / 'openrc'}", err=True)
        if generated_password and not settings.admin_password:
            out(f"admin password (generated, also in clouds.yaml): {generated_password}", err=True)
    sys.stderr.flush()


def _start_in_background(settings: ServerSettings) -> None:
    """Run this same command without --background, detached; wait until it answers or fails."""
    argv = [a for a in sys.argv[1:] if a != "--background"]
    log_path = settings.state_dir / LOGFILE
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "neutrino.cli.main", *argv],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + BACKGROUND_TIMEOUT
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            last = [line for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
            raise click.ClickException(f"the server exited ({proc.returncode}): {last[-1] if last else '?'} (log: {log_path})")
        try:
            with socket.create_connection((host, settings.port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.1)
    else:
        raise click.ClickException(f"the server (pid {proc.pid}) did not answer within {BACKGROUND_TIMEOUT:g} s (log: {log_path})")
    click.echo(f"neutrino server on {settings.url}: pid {proc.pid} (stop: kill $(cat {settings.state_dir / PIDFILE})), log {log_path}")


def _shown(url: str) -> str:
    """The database URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
