"""Shared fixtures: an in-process server on a throwaway database, SQLite and PostgreSQL.

Every test using ``client`` (and so ``api``) runs twice, ids ``[sqlite]`` and ``[postgresql]``:
the PostgreSQL variant gets a fresh database in a private cluster started once per session
(see tests/pg.py). Without PostgreSQL binaries those variants are skipped, unless the ``CI``
environment variable is set, where they fail: CI must really test PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from neutrino.config import load_server_settings


@pytest.fixture(autouse=True, scope="session")
def _tso_probe_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Agents and labs started by tests (and their child processes, which inherit the
    environment) keep the OVS TSO probe's answer in the session's temporary directory, not in
    /run/neutrino: a test run leaves the host as it found it."""
    old = os.environ.get("NEUTRINO_TSO_PROBE_CACHE")
    os.environ["NEUTRINO_TSO_PROBE_CACHE"] = str(tmp_path_factory.mktemp("tso-probe") / "ovs-tso-probe.json")
    yield
    if old is None:
        os.environ.pop("NEUTRINO_TSO_PROBE_CACHE", None)
    else:
        os.environ["NEUTRINO_TSO_PROBE_CACHE"] = old


class Api:
    """A thin test client speaking as one project (noauth headers) to the in-process server."""

    def __init__(self, client: TestClient, project: str | None = None, roles: str | None = None) -> None:
        self.client = client
        self.headers: dict[str, str] = {}
        if project:
            self.headers["X-Project-Id"] = project
        if roles:
            self.headers["X-Roles"] = roles

    def as_project(self, project: str, roles: str = "member,reader") -> Api:
        return Api(self.client, project, roles)

    def request(self, method: str, path: str, json: object = None, **kw: object):  # type: ignore[no-untyped-def]
        headers = dict(self.headers)
        headers.update(kw.pop("headers", {}) or {})  # type: ignore[arg-type]
        return self.client.request(method, path, json=json, headers=headers, **kw)  # type: ignore[arg-type]

    def get(self, path: str, **kw: object):  # type: ignore[no-untyped-def]
        return self.request("GET", path, **kw)

    def post(self, path: str, json: object = None, **kw: object):  # type: ignore[no-untyped-def]
        return self.request("POST", path, json, **kw)

    def put(self, path: str, json: object = None, **kw: object):  # type: ignore[no-untyped-def]
        return self.request("PUT", path, json, **kw)

    def delete(self, path: str, **kw: object):  # type: ignore[no-untyped-def]
        return self.request("DELETE", path, **kw)

    # conveniences used across many tests
    def network(self, **attrs: object) -> dict:  # type: ignore[type-arg]
        r = self.post("/v2.0/networks", {"network": {"name": "n", **attrs}})
        assert r.status_code == 201, r.text
        return r.json()["network"]

    def subnet(self, network_id: str, cidr: str = "10.0.0.0/24", **attrs: object) -> dict:  # type: ignore[type-arg]
        version = 6 if ":" in cidr else 4
        body = {"network_id": network_id, "cidr": cidr, "ip_version": version, **attrs}
        r = self.post("/v2.0/subnets", {"subnet": body})
        assert r.status_code == 201, r.text
        return r.json()["subnet"]

    def port(self, network_id: str, **attrs: object) -> dict:  # type: ignore[type-arg]
        r = self.post("/v2.0/ports", {"port": {"network_id": network_id, **attrs}})
        assert r.status_code == 201, r.text
        return r.json()["port"]


def make_settings(tmp: Path, **overrides: object):  # type: ignore[no-untyped-def]
    values = {"state_dir": tmp, "auth": "noauth", "port": 9696}
    values.update(overrides)
    return load_server_settings(None, **values)


@pytest.fixture
def server_state_dir(tmp_path: Path) -> Path:
    return tmp_path


BACKENDS = ["sqlite", "postgresql"]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[object]:
    """One throwaway PostgreSQL cluster for the whole session, stopped by PID at the end."""
    from tests.pg import PostgresCluster

    cluster = PostgresCluster()
    reason = cluster.unavailable_reason()
    if reason is not None:
        if _in_ci():
            pytest.fail(f"CI is set but PostgreSQL cannot be tested: {reason}", pytrace=False)
        pytest.skip(f"PostgreSQL unavailable: {reason}")
    cluster.start()
    try:
        _migrate_template(cluster)
        yield cluster
    finally:
        cluster.stop()


class BrokerFixture:
    """A private RabbitMQ (``dataplane/rabbitmq.py``) on loopback for the session: ``url``,
    ``restart()`` (stop, start again on the same port and state), stopped by pid at the end."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.broker = None

    def start(self, port: int | None = None) -> None:
        from neutrino.dataplane import rabbitmq

        self.broker = rabbitmq.start(self.state_dir, host="127.0.0.1", port=port, die_with_parent=True)

    def stop(self) -> None:
        if self.broker is not None:
            self.broker.stop()

    def restart(self) -> None:
        assert self.broker is not None
        port = self.broker.port
        self.stop()
        self.start(port)

    @property
    def url(self) -> str:
        assert self.broker is not None
        return self.broker.url


@pytest.fixture(scope="session")
def rabbitmq_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerFixture]:
    """One broker for the session. Unavailable (no Debian package): skipped, but failed under CI."""
    from neutrino.dataplane import rabbitmq

    reason = rabbitmq.unavailable_reason()
    if reason is not None:
        if _in_ci():
            pytest.fail(f"CI is set but RabbitMQ cannot be tested: {reason}", pytrace=False)
        pytest.skip(f"RabbitMQ unavailable: {reason}")
    fixture = BrokerFixture(tmp_path_factory.mktemp("rabbitmq"))
    try:
        fixture.start()
        yield fixture
    finally:
        fixture.stop()


PG_TEMPLATE = "neutrino_template"


def _migrate_template(cluster) -> None:  # type: ignore[no-untyped-def]
    """Run the migrations from scratch once per session into a template database, so each
    test's database is a migrated copy (half the setup cost); build() then finds it at head."""
    from neutrino.db.engine import make_engine
    from neutrino.db.migrate import upgrade

    engine = make_engine(cluster.create_database(PG_TEMPLATE))
    try:
        upgrade(engine)
    finally:
        engine.dispose()  # CREATE DATABASE ... TEMPLATE needs it unused


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for the default SQLite file in the state dir, else a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    cluster = request.getfixturevalue("pg_cluster")
    name = f"neutrino_{uuid.uuid4().hex[:16]}"
    url = cluster.create_database(name, template=PG_TEMPLATE)
    try:
        yield url
    finally:
        cluster.drop_database(name)


@pytest.fixture
def client(tmp_path: Path, database_url: str | None) -> Iterator[TestClient]:
    from neutrino.server import build

    built = build(make_settings(tmp_path, database_url=database_url), write_files=False)
    with TestClient(built.app, raise_server_exceptions=False) as c:
        yield c
    built.state.close()


@pytest.fixture
def api(client: TestClient) -> Api:
    """Admin (noauth) acting for project 'p-admin'."""
    return Api(client, "p-admin")


# --- root tests: skipped without root (failed under CI); the machine must be left as found ---------

DAEMONS = ("ovsdb-server", "ovs-vswitchd", "dnsmasq", "haproxy", "beam.smp", "epmd")


def _machine_snapshot() -> dict[str, set[str]]:
    """Namespaces, root-namespace links and dataplane daemons (by pid and command line)."""
    from neutrino.dataplane.netlink import Netlink

    from pyroute2.netlink.exceptions import NetlinkError

    from neutrino.dataplane.errors import DataplaneError

    for attempt in range(5):  # a link another process deletes during the dump fails it: again
        try:
            with Netlink() as netlink:
                namespaces = set(netlink.list_netns())
                links = {link.name for link in netlink.links()}
            break
        except (OSError, NetlinkError, DataplaneError):
            if attempt == 4:
                raise
    procs = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0] and Path(argv[0].decode(errors="replace")).name in DAEMONS:
            procs.add(f"{entry.name} {b' '.join(argv).decode(errors='replace')[:160]}")
    return {"namespaces": namespaces, "root links": links, "daemons": procs}


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Root tests skip without root, except under CI, where a missing precondition fails."""
    if "root" not in item.keywords or os.geteuid() == 0:
        return
    if _in_ci():
        pytest.fail("CI is set but this root test cannot run: not root", pytrace=False)
    pytest.skip("needs root (namespaces, OVS)")


def pytest_configure(config: pytest.Config) -> None:
    """Tests never read the user's cloud settings, from the first fixture on (session ones
    included): no OS_* variables, and clouds.yaml / secure.yaml files of the run's own (empty),
    which openstacksdk reads instead of ~/.config/openstack and /etc/openstack, in this process
    and in every client subprocess. HOME is a private directory too (the CLI's caches)."""
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="neutrino-tests-home-"))
    for name in ("clouds.yaml", "secure.yaml"):
        (home / name).write_text("clouds: {}\n")
    config._neutrino_home = home  # type: ignore[attr-defined]
    for key in [k for k in os.environ if k.startswith("OS_")]:
        del os.environ[key]
    os.environ.update(HOME=str(home), OS_CLIENT_CONFIG_FILE=str(home / "clouds.yaml"),
                      OS_CLIENT_SECURE_FILE=str(home / "secure.yaml"))  # fmt: skip


def pytest_unconfigure(config: pytest.Config) -> None:
    import shutil

    home = getattr(config, "_neutrino_home", None)
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.geteuid() == 0:
        session.config._machine_before = _machine_snapshot()  # type: ignore[attr-defined]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = getattr(session.config, "_machine_before", None)
    if before is None:
        return
    import time

    deadline = time.monotonic() + 30  # namespace teardown and zombie reaping are asynchronous (slow under load)
    while True:
        after = _machine_snapshot()
        left = {k: sorted(after[k] - before[k]) for k in after if after[k] - before[k]}
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = [f"  {kind}: {', '.join(items)}" for kind, items in left.items()]
        if reporter is not None:
            reporter.write_line("LEFT BEHIND by the test run:\n" + "\n".join(lines), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
