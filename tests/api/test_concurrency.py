"""Parallel writers never share an IP or a MAC, and exhaustion is a clean 409.

Runs the real service functions in many threads against one database (an SQLite file, then a
PostgreSQL database: the ``database_url`` fixture of tests/conftest.py), the way the server's
worker threads do; uniqueness comes from the database constraints plus whole-transaction retry.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from neutrino import errors
from neutrino.db.engine import run_in_transaction
from neutrino.domain.context import Context
from neutrino.domain.services import networks, ports, subnets
from tests.conftest import make_settings

pytestmark = pytest.mark.api


@pytest.fixture
def state(tmp_path, database_url):
    from neutrino.server import build

    built = build(make_settings(tmp_path, database_url=database_url), write_files=False)
    yield built.state
    built.state.close()


def _setup(state, cidr):
    ctx = Context.admin("p")

    def work(s):
        net = networks.create(s, ctx, state.domain, {"project_id": "p"})
        subnets.create(
            s, ctx, state.domain, {"project_id": "p", "network_id": net.id, "cidr": cidr, "ip_version": 4}
        )
        return net.id

    return ctx, run_in_transaction(state.sessions, work)


def test_parallel_port_creates_get_distinct_addresses(state):
    ctx, net_id = _setup(state, "10.0.0.0/24")
    barrier = threading.Barrier(8)

    def one(i):
        if i < 8:
            barrier.wait()
        port = run_in_transaction(
            state.sessions,
            lambda s: ports.create(s, ctx, state.domain, {"project_id": "p", "network_id": net_id}),
        )
        return port.mac_address, port.fixed_ips[0].ip_address

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(120)))
    macs = [m for m, _ in results]
    ips = [ip for _, ip in results]
    assert len(set(macs)) == len(macs) == 120
    assert len(set(ips)) == len(ips) == 120


def test_parallel_exhaustion_is_clean(state):
    ctx, net_id = _setup(state, "10.9.0.0/28")  # 13 usable addresses (.2 - .14)

    def one(_):
        try:
            run_in_transaction(
                state.sessions,
                lambda s: ports.create(s, ctx, state.domain, {"project_id": "p", "network_id": net_id}),
            )
            return "ok"
        except errors.IpAddressGenerationFailure:
            return "full"

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(one, range(20)))
    assert outcomes.count("ok") == 13 and outcomes.count("full") == 7


def test_parallel_creates_across_projects_retry_and_exhaust_cleanly(state):
    """Ports of different projects do not queue on one quota lock (PostgreSQL), so their
    address picks really race: the loser's IntegrityError is retried, and the subnet still
    fills up to exactly its size with a clean IpAddressGenerationFailure after that."""
    ctx, net_id = _setup(state, "10.7.0.0/27")  # 29 usable addresses (.2 - .30)
    retries = []
    barrier = threading.Barrier(8)

    def one(i):
        if i < 8:
            barrier.wait()
        try:
            port = run_in_transaction(
                state.sessions,
                lambda s: ports.create(s, ctx, state.domain, {"project_id": f"p{i % 8}", "network_id": net_id}),
                on_retry=lambda: retries.append(1),
            )
            return port.mac_address, port.fixed_ips[0].ip_address
        except errors.IpAddressGenerationFailure:
            return None

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(40)))
    made = [r for r in results if r is not None]
    assert len(made) == 29 and results.count(None) == 11, (len(made), len(retries))
    assert len({m for m, _ in made}) == len({ip for _, ip in made}) == 29


@pytest.mark.parametrize("collection", ["networks", "ports", "routers", "security-groups", "subnets"])
def test_parallel_updates_keep_every_revision_and_if_match_is_atomic(state, collection):
    """revision_number is each row's version counter: 8 updates in parallel each add one, and
    of 8 updates all carrying If-Match with the same revision exactly one wins, the rest 412."""
    from neutrino.domain.services import routers, security_groups

    ctx, net_id = _setup(state, "10.5.0.0/24")
    services = {"networks": networks, "ports": ports, "routers": routers,
                "security-groups": security_groups, "subnets": subnets}  # fmt: skip
    service = services[collection]

    def create(s):
        if collection == "networks":
            return net_id
        if collection == "subnets":
            return _first_subnet(s, net_id)
        body = {"project_id": "p", "name": "x"}
        if collection == "ports":
            body["network_id"] = net_id
        return service.create(s, ctx, state.domain, body).id

    rid = run_in_transaction(state.sessions, create)

    def current():
        return run_in_transaction(state.sessions, lambda s: service.get(s, ctx, rid).revision_number)

    before = current()
    barrier = threading.Barrier(8)

    def update(n, if_match=None):
        barrier.wait()
        name = f"{'late' if if_match else 'w'}{n}"  # always a change: each successful update counts
        try:
            run_in_transaction(
                state.sessions, lambda s: service.update(s, ctx, state.domain, rid, {"name": name}, if_match)
            )
            return "ok"
        except errors.RevisionNumberConstraintFailed:
            return "412"

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(update, range(8))) == ["ok"] * 8
    assert current() == before + 8
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda n: update(n, before + 8), range(8)))
    assert outcomes.count("ok") == 1 and outcomes.count("412") == 7
    assert current() == before + 9


def _first_subnet(session, net_id):
    from sqlalchemy import select

    from neutrino.domain.models import Subnet

    return session.scalar(select(Subnet.id).where(Subnet.network_id == net_id))
