"""``neutrino server --workers 2`` on PostgreSQL, as a real process (the private cluster of
tests/conftest.py; in CI these fail, not skip, without PostgreSQL).

The database is created empty and brought to the schema by ``neutrino db upgrade``; the server
then starts with ``--no-migrate``. Against it: parallel port creates on one small subnet (no
duplicate IP or MAC, exhaustion a clean 409), parallel updates of one port (every revision
increment kept, a stale If-Match refused with 412), and a notification committed by one worker
reaching a long poll served by the other.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from neutrino.contract import messages
from tests.clients.conftest import HTTP_TIMEOUT, Server, clean_env, running_server

pytestmark = pytest.mark.clients

WORKERS = 2
CLIENTS = 8
CREATES_PER_CLIENT = 250
CIDR = "10.77.0.0/26"  # 62 addresses, one the gateway's: 61 ports fit
ADMIN = {"X-Project-Id": "p-admin", "X-Roles": "admin,member,reader"}


def _neutrino(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "neutrino.cli.main", *args], capture_output=True, text=True, timeout=120, env=clean_env()
    )


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found |= {int(c) for c in (task / "children").read_text().split()}
    return found


@pytest.fixture
def empty_database(pg_cluster) -> Iterator[str]:  # type: ignore[no-untyped-def]
    name = f"neutrino_w_{uuid.uuid4().hex[:12]}"
    url = pg_cluster.create_database(name)  # from template1: no tables at all
    try:
        yield url
    finally:
        pg_cluster.drop_database(name)


@pytest.fixture
def workers_server(tmp_path: Path, empty_database: str) -> Iterator[Server]:
    """``neutrino db upgrade`` on the empty database, then two workers that do not migrate;
    afterwards every worker process is gone (waited for by pid)."""
    upgraded = _neutrino("db", "upgrade", "--database-url", empty_database, "--state-dir", str(tmp_path / "state"))
    assert upgraded.returncode == 0, upgraded.stderr
    assert "to schema revision" in upgraded.stdout
    env = {"NEUTRINO_DATABASE_URL": empty_database, "NEUTRINO_WORKERS": str(WORKERS), "NEUTRINO_MIGRATE": "false"}
    workers: set[int] = set()
    with running_server(tmp_path / "server", auth="noauth", env=env) as server:
        deadline = time.monotonic() + 60  # both workers up, not only the first
        while server.log().count("Application startup complete") < WORKERS:
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.1)
        workers = _children(server.pid)
        try:
            yield server
        finally:
            workers |= _children(server.pid)
    for pid in workers:  # the parent stopped them; reap stragglers by pid if it could not
        deadline = time.monotonic() + 30  # bounds a failure only
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        if Path(f"/proc/{pid}").exists():
            os.kill(pid, signal.SIGKILL)
            pytest.fail(f"worker {pid} outlived the server")
    assert "database schema upgraded" not in server.log()


def test_no_migrate_on_an_empty_database_says_what_to_run(tmp_path, empty_database):
    result = _neutrino(
        "server", "--database-url", empty_database, "--state-dir", str(tmp_path), "--no-migrate", "--workers", "2"
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "neutrino db upgrade" in lines[0], result.stderr


def test_several_workers_refuse_sqlite_in_one_line(tmp_path):
    result = _neutrino("server", "--state-dir", str(tmp_path), "--workers", "2")
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "PostgreSQL" in result.stderr


def test_parallel_creates_updates_and_notifications_across_workers(workers_server):
    url = workers_server.url
    net = httpx.post(f"{url}/v2.0/networks", json={"network": {"name": "w"}}, headers=ADMIN, timeout=HTTP_TIMEOUT).json()["network"]
    r = httpx.post(
        f"{url}/v2.0/subnets",
        json={"subnet": {"network_id": net["id"], "cidr": CIDR, "ip_version": 4}},
        headers=ADMIN,
        timeout=HTTP_TIMEOUT,
    )
    assert r.status_code == 201, r.text
    pool_size = ipaddress.ip_network(CIDR).num_addresses - 3  # network, gateway, broadcast

    _parallel_creates(url, net["id"], pool_size)
    _parallel_updates(url, net["id"])
    _notification_across_workers(url)


def _parallel_creates(url: str, network_id: str, pool_size: int) -> None:
    """8 clients x 250 creates: every address and MAC once, then clean 409s."""
    barrier = threading.Barrier(CLIENTS)

    def client(_n: int) -> list[httpx.Response]:
        with httpx.Client(base_url=url, headers=ADMIN, timeout=60) as http:
            barrier.wait()
            body = {"port": {"network_id": network_id}}
            return [http.post("/v2.0/ports", json=body) for _ in range(CREATES_PER_CLIENT)]

    with ThreadPoolExecutor(CLIENTS) as pool:
        responses = [r for batch in pool.map(client, range(CLIENTS)) for r in batch]
    created = [r.json()["port"] for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code != 201]
    assert len(created) == pool_size
    assert {r.status_code for r in refused} == {409}
    assert {r.json()["NeutronError"]["type"] for r in refused} == {"IpAddressGenerationFailure"}
    addresses = [p["fixed_ips"][0]["ip_address"] for p in created]
    macs = [p["mac_address"] for p in created]
    assert len(set(addresses)) == len(addresses) == pool_size
    assert len(set(macs)) == len(macs)
    listed = httpx.get(f"{url}/v2.0/ports", params={"network_id": network_id}, headers=ADMIN, timeout=HTTP_TIMEOUT).json()["ports"]
    assert len(listed) == pool_size


def _parallel_updates(url: str, network_id: str) -> None:
    """8 parallel updates of one port: revision_number grows by exactly 8; then an If-Match
    with the revision read before another update is refused with 412."""
    listed = httpx.get(f"{url}/v2.0/ports", params={"network_id": network_id, "limit": 1}, headers=ADMIN, timeout=HTTP_TIMEOUT)
    port = listed.json()["ports"][0]
    before = port["revision_number"]
    barrier = threading.Barrier(CLIENTS)

    def update(n: int) -> int:
        with httpx.Client(base_url=url, headers=ADMIN, timeout=60) as http:
            barrier.wait()
            return http.put(f"/v2.0/ports/{port['id']}", json={"port": {"name": f"writer-{n}"}}).status_code

    with ThreadPoolExecutor(CLIENTS) as pool:
        assert list(pool.map(update, range(CLIENTS))) == [200] * CLIENTS
    after = httpx.get(f"{url}/v2.0/ports/{port['id']}", headers=ADMIN, timeout=HTTP_TIMEOUT).json()["port"]["revision_number"]
    assert after == before + CLIENTS

    stale = after
    r = httpx.put(f"{url}/v2.0/ports/{port['id']}", json={"port": {"name": "meanwhile"}}, headers=ADMIN, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200 and r.json()["port"]["revision_number"] == stale + 1
    r = httpx.put(
        f"{url}/v2.0/ports/{port['id']}",
        json={"port": {"name": "late"}},
        headers={**ADMIN, "If-Match": f"revision_number={stale}"},
        timeout=HTTP_TIMEOUT,
    )
    assert r.status_code == 412, r.text
    r = httpx.put(
        f"{url}/v2.0/ports/{port['id']}",
        json={"port": {"name": "current"}},
        headers={**ADMIN, "If-Match": f"revision_number={stale + 1}"},
        timeout=HTTP_TIMEOUT,
    )
    assert r.status_code == 200, r.text


def _notification_across_workers(url: str) -> None:
    """A new agent's first report (a commit in whichever worker took the call) wakes a long
    poll of its host topic; repeated until the poll and the call were served by different
    workers (fresh connections each time, so the kernel spreads them)."""
    pairs: list[tuple[str, str]] = []
    for attempt in range(40):
        host = f"wk-{attempt}-{uuid.uuid4().hex[:6]}"
        topic = messages.host_topic(host)
        start = httpx.get(f"{url}/bus/v1/events", params={"topic": topic, "after": 0, "timeout": 0}, headers=ADMIN, timeout=HTTP_TIMEOUT)
        answer: list[httpx.Response] = []
        poller = threading.Thread(
            target=lambda t=topic, a=start.json()["last"]: answer.append(
                httpx.get(
                    f"{url}/bus/v1/events", params={"topic": t, "after": a, "timeout": 25}, headers=ADMIN, timeout=40
                )
            )
        )
        poller.start()
        time.sleep(0.2)  # usually lets the poll start waiting first; correct either way
        report = messages.message(
            messages.REPORT_STATE, agent_type="Open vSwitch agent", binary="neutrino-openvswitch-agent",
            topic="N/A", host=host, configurations={}, start_flag=True,
        )  # fmt: skip
        call = httpx.post(f"{url}/bus/v1/call", json={"topic": messages.PLUGIN_TOPIC, "msg": report}, headers=ADMIN, timeout=HTTP_TIMEOUT)
        assert call.status_code == 200 and "error" not in call.json(), call.text
        poller.join(40)
        assert answer and answer[0].status_code == 200, answer
        events = answer[0].json()["events"]
        assert [e["method"] for e in events] == [messages.HOST_CHANGED] and events[0]["host"] == host
        pairs.append((call.headers["X-Neutrino-Worker"], answer[0].headers["X-Neutrino-Worker"]))
        if any(writer != poller_pid for writer, poller_pid in pairs):
            break
    assert any(writer != poller_pid for writer, poller_pid in pairs), f"one worker served everything: {pairs}"


def test_a_server_on_an_empty_database_migrates_it(tmp_path, empty_database):
    from neutrino.db.migrate import HEAD_REVISION, current
    from neutrino.server import build
    from tests.conftest import make_settings

    built = build(make_settings(tmp_path, database_url=empty_database), write_files=False)
    try:
        assert current(built.state.engine) == HEAD_REVISION
    finally:
        built.state.close()
