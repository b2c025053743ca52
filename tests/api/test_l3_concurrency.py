"""Parallel L3 writers: a router never gets overlapping interfaces, a fixed IP never gets two
floating IPs, and a floating IP is never left behind on an interface being removed.

Runs the service functions in threads against one database (SQLite, then PostgreSQL) as the
server's worker threads do: router row locks, the floating IP unique constraint and
whole-transaction retry must make every interleaving end in a state Neutron would allow.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from neutrino import errors
from neutrino.db.engine import run_in_transaction
from neutrino.domain.context import Context
from neutrino.domain.models import FloatingIP, RouterPort
from neutrino.domain.services import floatingips, networks, ports, router_interfaces, routers, subnets
from tests.conftest import make_settings

pytestmark = pytest.mark.api
CTX = Context.admin("p")


@pytest.fixture
def state(tmp_path, database_url):
    from neutrino.server import build

    built = build(make_settings(tmp_path, database_url=database_url), write_files=False)
    yield built.state
    built.state.close()


def _tx(state, work):  # type: ignore[no-untyped-def]
    return run_in_transaction(state.sessions, work)


def _net(state, cidr: str, external: bool = False) -> tuple[str, str]:
    def work(s):  # type: ignore[no-untyped-def]
        data = {"project_id": "p", "router:external": external}
        net = networks.create(s, CTX, state.domain, data)
        sub = subnets.create(s, CTX, state.domain, {"project_id": "p", "network_id": net.id, "cidr": cidr, "ip_version": 4})
        return net.id, sub.id

    return _tx(state, work)


def _outcome(fn):  # type: ignore[no-untyped-def]
    try:
        fn()
        return "ok"
    except errors.NeutronError as exc:
        return exc.type


def test_parallel_overlapping_interfaces(state):
    rid = _tx(state, lambda s: routers.create(s, CTX, state.domain, {"project_id": "p"}).id)
    subs = [_net(state, "10.0.0.0/24")[1] for _ in range(6)]
    barrier = threading.Barrier(6)

    def one(sub_id):  # type: ignore[no-untyped-def]
        barrier.wait()
        return _outcome(lambda: _tx(state, lambda s: router_interfaces.add(s, CTX, state.domain, rid, subnet_id=sub_id)))

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(one, subs))
    assert sorted(results) == ["BadRequest"] * 5 + ["ok"]
    links = _tx(state, lambda s: s.query(RouterPort).filter_by(router_id=rid).count())
    assert links == 1


def _topology(state):  # type: ignore[no-untyped-def]
    ext_id, _ = _net(state, "172.24.4.0/24", external=True)
    net_id, sub_id = _net(state, "10.1.0.0/24")

    def work(s):  # type: ignore[no-untyped-def]
        r = routers.create(s, CTX, state.domain, {"project_id": "p", "external_gateway_info": {"network_id": ext_id}})
        router_interfaces.add(s, CTX, state.domain, r.id, subnet_id=sub_id)
        port = ports.create(s, CTX, state.domain, {"project_id": "p", "network_id": net_id})
        return r.id, port.id

    rid, port_id = _tx(state, work)
    return ext_id, sub_id, rid, port_id


def test_parallel_associations_of_one_port(state):
    ext_id, _, _, port_id = _topology(state)
    fips = [_tx(state, lambda s: floatingips.create(s, CTX, state.domain, {"project_id": "p", "floating_network_id": ext_id}).id)
            for _ in range(5)]
    barrier = threading.Barrier(5)

    def one(fip_id):  # type: ignore[no-untyped-def]
        barrier.wait()
        return _outcome(lambda: _tx(state, lambda s: floatingips.update(s, CTX, state.domain, fip_id, {"port_id": port_id})))

    with ThreadPoolExecutor(5) as pool:
        results = list(pool.map(one, fips))
    assert sorted(results) == ["FloatingIPPortAlreadyAssociated"] * 4 + ["ok"]


@pytest.mark.parametrize("round_", range(4))
def test_association_racing_interface_removal(state, round_):
    ext_id, sub_id, rid, port_id = _topology(state)
    fip_id = _tx(state, lambda s: floatingips.create(s, CTX, state.domain, {"project_id": "p", "floating_network_id": ext_id}).id)
    barrier = threading.Barrier(2)

    def associate():  # type: ignore[no-untyped-def]
        barrier.wait()
        return _outcome(lambda: _tx(state, lambda s: floatingips.update(s, CTX, state.domain, fip_id, {"port_id": port_id})))

    def remove():  # type: ignore[no-untyped-def]
        barrier.wait()
        return _outcome(lambda: _tx(state, lambda s: router_interfaces.remove(s, CTX, state.domain, rid, subnet_id=sub_id)))

    with ThreadPoolExecutor(2) as pool:
        assoc, removal = pool.submit(associate), pool.submit(remove)
        results = (assoc.result(), removal.result())
    assert results in {
        ("ok", "RouterInterfaceInUseByFloatingIP"),
        ("ExternalGatewayForFloatingIPNotFound", "ok"),
    }, results
    fip_router = _tx(state, lambda s: s.get(FloatingIP, fip_id).router_id)
    interfaces = _tx(state, lambda s: s.query(RouterPort).filter_by(router_id=rid, port_type="network:router_interface").count())
    assert (fip_router is not None) == (interfaces == 1)


@pytest.mark.parametrize("round_", range(4))
def test_association_racing_port_delete(state, round_):
    ext_id, _, _, port_id = _topology(state)
    fip_id = _tx(state, lambda s: floatingips.create(s, CTX, state.domain, {"project_id": "p", "floating_network_id": ext_id}).id)
    barrier = threading.Barrier(2)

    def associate():  # type: ignore[no-untyped-def]
        barrier.wait()
        return _outcome(lambda: _tx(state, lambda s: floatingips.update(s, CTX, state.domain, fip_id, {"port_id": port_id})))

    def delete():  # type: ignore[no-untyped-def]
        barrier.wait()
        return _outcome(lambda: _tx(state, lambda s: ports.delete(s, CTX, state.domain, port_id)))

    with ThreadPoolExecutor(2) as pool:
        assoc, gone = pool.submit(associate), pool.submit(delete)
        results = (assoc.result(), gone.result())
    # (BadRequest: the port was read while its addresses were already going)
    assert results in {("ok", "ok"), ("PortNotFound", "ok"), ("BadRequest", "ok")}, results
    fip = _tx(state, lambda s: s.get(FloatingIP, fip_id))
    assert (fip.fixed_port_id, fip.fixed_ip_address, fip.router_id) == (None, None, None)
