"""The lab's bus and database: HTTP and SQLite by default, or RabbitMQ and PostgreSQL running
inside the controller's namespace (``lab up --bus rabbitmq --db postgresql``).

The choice is recorded in ``services.json`` in the lab's state directory at ``up`` (with the
database role's password, chosen once), so later commands and the supervisor read it back.

* RabbitMQ (dataplane/rabbitmq.py) listens on the controller's management address, port 5672:
  agents in the other hosts' namespaces reach it over the management network. It is a daemon
  with pidfiles under ``<lab>/rabbitmq`` (vhost, user and password of its own, chosen at its
  first start), started by ``lab up`` (again, with the same URL, by a later ``lab up`` if it
  died) and stopped by ``lab down``.
* PostgreSQL (dataplane/postgres.py) listens on 127.0.0.1:5432 inside the controller's
  namespace, where only the server connects; its cluster is kept in ``<lab>/postgres``. It is a
  child of the lab's supervisor, which starts it before the server and again if it dies.

Ports are fixed because each lab has namespaces of its own: two labs share no port, vhost or
database, however many run on one machine.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from neutrino.lab import resolve as rs

BUSES = ("http", "rabbitmq")
DATABASES = ("sqlite", "postgresql")
RECORD = "services.json"
RABBITMQ_PORT = 5672
POSTGRES_PORT = 5432
DB_NAME = DB_ROLE = "neutrino"
SERVER_WORKERS_ON_POSTGRES = 2


@dataclass(frozen=True)
class Services:
    bus: str = "http"
    db: str = "sqlite"
    db_password: str = field(default="", repr=False)


def choose(bus: str, db: str) -> Services:
    if bus not in BUSES:
        raise ValueError(f"--bus {bus}: choose from {', '.join(BUSES)}")
    if db not in DATABASES:
        raise ValueError(f"--db {db}: choose from {', '.join(DATABASES)}")
    return Services(bus=bus, db=db, db_password=secrets.token_urlsafe(18) if db == "postgresql" else "")


def settle(lab: rs.ResolvedLab, bus: str | None, db: str | None) -> Services:
    """The lab's bus and database: those recorded at its first ``up`` (a lab keeps them; asking
    for others is an error), else those given (default HTTP and SQLite), then recorded."""
    path = lab.state_dir / RECORD
    if path.exists():
        known = read(lab)
        if (bus or known.bus, db or known.db) != (known.bus, known.db):
            raise ValueError(f"lab {lab.name} runs with --bus {known.bus} --db {known.db}; "
                             f"`neutrino lab down --name {lab.name}` first to change them")  # fmt: skip
        return known
    services = choose(bus or "http", db or "sqlite")
    path.touch(mode=0o600)
    path.write_text(json.dumps(asdict(services)))
    return services


def read(lab: rs.ResolvedLab) -> Services:
    try:
        return Services(**json.loads((lab.state_dir / RECORD).read_text()))
    except (OSError, ValueError, TypeError):
        return Services()


def rabbitmq_dir(lab: rs.ResolvedLab) -> Path:
    return lab.state_dir / "rabbitmq"


def postgres_dir(lab: rs.ResolvedLab) -> Path:
    return lab.state_dir / "postgres"


def database_url(lab: rs.ResolvedLab, services: Services) -> str | None:
    """The server's database_url: None for SQLite in its state directory."""
    if services.db != "postgresql":
        return None
    from urllib.parse import quote

    return f"postgresql+psycopg://{DB_ROLE}:{quote(services.db_password, safe='')}@127.0.0.1:{POSTGRES_PORT}/{DB_NAME}"


def broker_url(lab: rs.ResolvedLab) -> str | None:
    """The running broker's amqp:// URL (with its credentials), None without one."""
    from neutrino.dataplane import rabbitmq

    return rabbitmq.url_of(rabbitmq_dir(lab))


def start_broker(lab: rs.ResolvedLab) -> str:
    """Start the lab's broker if it is not running; its URL."""
    from neutrino.dataplane import rabbitmq

    url = broker_url(lab)
    if url is not None and broker_pid(lab) is not None:
        return url
    broker = rabbitmq.start(rabbitmq_dir(lab), host=lab.controller.address or "127.0.0.1", port=RABBITMQ_PORT,
                            netns=lab.controller.netns)  # fmt: skip
    return broker.url


def broker_pid(lab: rs.ResolvedLab) -> int | None:
    from neutrino.dataplane import daemons

    pid = daemons.read_pid(rabbitmq_dir(lab) / "beam.pid")
    return pid if daemons.alive(pid, "beam") else None


def database_pid(lab: rs.ResolvedLab) -> int | None:
    """The postmaster's pid, from the first line of its ``postmaster.pid``."""
    from neutrino.dataplane import daemons

    try:
        first = (postgres_dir(lab) / "data" / "postmaster.pid").read_text().split("\n", 1)[0].strip()
    except OSError:
        return None
    pid = int(first) if first.isdigit() else None
    return pid if daemons.alive(pid, "postgres") else None


def stop_broker(lab_state_dir: Path) -> bool:
    from neutrino.dataplane import rabbitmq

    if not (lab_state_dir / "rabbitmq").is_dir():
        return False
    return rabbitmq.stop(lab_state_dir / "rabbitmq")


def start_database(lab: rs.ResolvedLab, services: Services) -> Any:
    """Start the lab's PostgreSQL cluster (a child of the caller, the supervisor); create the
    server's role and database at the first start. Returns the running ``PostgresCluster``."""
    from neutrino.dataplane.postgres import PostgresCluster

    cluster = PostgresCluster(directory=postgres_dir(lab), host="127.0.0.1", port=POSTGRES_PORT,
                              netns=lab.controller.netns).start()  # fmt: skip
    marker = postgres_dir(lab) / "neutrino-database"
    if not marker.exists():
        cluster.create_role(DB_ROLE, services.db_password)
        cluster.create_database(DB_NAME, owner=DB_ROLE)
        marker.write_text(f"{DB_NAME}\n")
    return cluster
