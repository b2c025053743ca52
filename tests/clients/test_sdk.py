"""openstacksdk (proxy and cloud layers) and plain HTTP concurrency against the real server.

The SDK runs in this process and talks HTTP to the server subprocess of the ``server`` fixture
(password auth through the identity service), or to a second, noauth server. Names carry an
``sdk-`` prefix because the server is shared with the CLI tests.
"""

from __future__ import annotations

import ipaddress
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import openstack
import pytest
from openstack import exceptions as sdk_exc

from tests.addresses import free_hosts
from tests.clients.conftest import HTTP_TIMEOUT, running_server

pytestmark = pytest.mark.clients


@pytest.fixture
def cloud_conn(server, no_os_env):
    """A connection from the generated clouds.yaml (cloud ``neutrino``)."""
    no_os_env.setenv("OS_CLIENT_CONFIG_FILE", str(server.clouds_yaml))
    c = openstack.connect(cloud="neutrino")
    yield c
    c.close()


def _uniq(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# --- networks, tags, filters ---------------------------------------------------------------


def test_network_crud_tags_and_filters(conn):
    net = conn.network.create_network(name=_uniq("sdk-net"))
    try:
        assert net.id and net.is_admin_state_up is True and net.status == "ACTIVE"
        assert net.project_id == conn.current_project_id
        assert conn.network.get_network(net.id).name == net.name
        assert conn.network.find_network(net.name).id == net.id  # 404 by name, then ?name=
        assert conn.network.find_network(net.id).id == net.id
        assert conn.network.find_network("sdk-does-not-exist") is None

        name0, rev0 = net.name, net.revision_number  # update_network updates `net` in place
        upd = conn.network.update_network(net.id, name=name0 + "-b", description="d", is_admin_state_up=False)
        assert upd.name == name0 + "-b" and upd.description == "d" and upd.is_admin_state_up is False
        assert upd.revision_number == rev0 + 1

        # tags: set, add, remove, and the tag filters
        conn.network.set_tags(upd, ["a", "b"])
        assert sorted(conn.network.get_network(net.id).tags) == ["a", "b"]
        conn.network.add_tag(upd, "c")
        conn.network.remove_tag(upd, "a")
        assert sorted(conn.network.get_network(net.id).tags) == ["b", "c"]
        with pytest.raises(sdk_exc.NotFoundException):
            conn.network.remove_tag(upd, "zz")
        ids = lambda **f: {n.id for n in conn.network.networks(**f)}  # noqa: E731
        assert net.id in ids(tags=["b", "c"])
        assert net.id not in ids(tags=["b", "a"])
        assert net.id in ids(any_tags=["a", "c"])
        assert net.id not in ids(not_tags=["b"])
        assert net.id in ids(not_any_tags=["a", "x"])

        # attribute filters
        assert ids(name=upd.name) == {net.id}
        assert net.id in ids(is_admin_state_up=False)
        assert net.id not in ids(is_admin_state_up=True)
        assert net.id in ids(project_id=conn.current_project_id)
        assert ids(project_id="no-such-project") == set()
    finally:
        conn.network.delete_network(net.id, ignore_missing=True)
    with pytest.raises(sdk_exc.NotFoundException):
        conn.network.get_network(net.id)
    assert conn.network.find_network(net.id) is None
    with pytest.raises(sdk_exc.NotFoundException):
        conn.network.delete_network(net.id, ignore_missing=False)


# --- subnets and ports, through clouds.yaml -------------------------------------------------


def test_subnets_and_ports_from_clouds_yaml(cloud_conn):
    c = cloud_conn
    net = c.network.create_network(name=_uniq("sdk-pnet"))
    try:
        s4 = c.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.20.0.0/24", name="sdk-s4")
        assert s4.gateway_ip == "10.20.0.1" and s4.is_dhcp_enabled is True
        assert s4.allocation_pools == [{"start": "10.20.0.2", "end": "10.20.0.254"}]
        s6 = c.network.create_subnet(
            network_id=net.id, ip_version=6, cidr="2001:db8:20::/64", name="sdk-s6",
            ipv6_ra_mode="slaac", ipv6_address_mode="slaac",
        )  # fmt: skip
        assert s6.gateway_ip == "2001:db8:20::1" and s6.ipv6_address_mode == "slaac"
        assert {s.id for s in c.network.subnets(network_id=net.id)} == {s4.id, s6.id}
        assert [s.id for s in c.network.subnets(network_id=net.id, ip_version=6)] == [s6.id]

        p1 = c.network.create_port(network_id=net.id, name="sdk-p1")
        by_subnet = {f["subnet_id"]: f["ip_address"] for f in p1.fixed_ips}
        assert set(by_subnet) == {s4.id, s6.id}
        assert ipaddress.ip_address(by_subnet[s4.id]) in ipaddress.ip_network("10.20.0.0/24")
        assert ipaddress.ip_address(by_subnet[s6.id]) in ipaddress.ip_network("2001:db8:20::/64")

        # p1's address is random: the fixed ones are two it does not hold
        first, second = free_hosts("10.20.0.0/24", by_subnet.values(), count=2, first=77)
        p2 = c.network.create_port(
            network_id=net.id, name="sdk-p2", fixed_ips=[{"subnet_id": s4.id, "ip_address": first}]
        )
        assert p2.fixed_ips == [{"subnet_id": s4.id, "ip_address": first}]
        with pytest.raises(sdk_exc.ConflictException) as exc:
            c.network.create_port(network_id=net.id, fixed_ips=[{"ip_address": first}])
        assert f"IP address {first} already allocated" in str(exc.value)

        assert {p.id for p in c.network.ports(network_id=net.id)} == {p1.id, p2.id}
        assert [p.id for p in c.network.ports(fixed_ips=[f"ip_address={first}"])] == [p2.id]
        assert [p.id for p in c.network.ports(mac_address=p1.mac_address)] == [p1.id]
        assert p1.mac_address != p2.mac_address

        p2 = c.network.update_port(p2, fixed_ips=[{"subnet_id": s4.id, "ip_address": second}])
        assert p2.fixed_ips == [{"subnet_id": s4.id, "ip_address": second}]
        with pytest.raises(sdk_exc.ConflictException) as exc:
            c.network.delete_network(net)
        assert "There are one or more ports still in use on the network" in str(exc.value)
        c.network.delete_port(p1)
        c.network.delete_port(p2)
        assert list(c.network.ports(network_id=net.id)) == []
    finally:
        for p in c.network.ports(network_id=net.id):
            c.network.delete_port(p)
        c.network.delete_network(net, ignore_missing=True)
    assert list(c.network.subnets(network_id=net.id)) == []


# --- quotas ------------------------------------------------------------------------------------


def test_quotas(conn):
    project = conn.identity.create_project(name=_uniq("sdk-quota-proj"), domain_id="default")
    try:
        q = conn.network.get_quota(project.id)
        assert (q.networks, q.subnets, q.ports) == (100, 100, 500)
        q = conn.network.update_quota(project.id, networks=3, ports=9)
        assert (q.networks, q.ports) == (3, 9)
        q = conn.network.get_quota(project.id)
        assert (q.networks, q.subnets, q.ports) == (3, 100, 9)
        details = conn.network.get_quota(project.id, details=True)
        assert details.networks["limit"] == 3 and details.networks["used"] == 0
        assert conn.network.get_quota_default(project.id).networks == 100
        assert project.id in {x.project_id for x in conn.network.quotas()}
        conn.network.delete_quota(project.id)
        assert conn.network.get_quota(project.id).networks == 100
        # the admin project's own quota is untouched
        assert conn.network.get_quota(conn.current_project_id).networks == 100
    finally:
        conn.identity.delete_project(project.id)


def test_project_isolation(conn, server):
    """A member of another project sees nothing of the admin project's resources."""
    admin_net = conn.network.create_network(name=_uniq("sdk-iso-admin"))
    conn.network.create_subnet(network_id=admin_net.id, cidr="10.60.0.0/24", ip_version=4)
    project = conn.identity.create_project(name=_uniq("sdk-iso-proj"), domain_id="default")
    user = conn.identity.create_user(
        name=_uniq("sdk-iso-user"), password="pw-c", default_project_id=project.id, domain_id="default"
    )
    conn.identity.assign_project_role_to_user(project, user, conn.identity.find_role("member"))
    other = openstack.connect(
        auth_url=server.auth_url, username=user.name, password="pw-c", project_name=project.name,
        user_domain_name="Default", project_domain_name="Default", region_name="RegionOne",
    )  # fmt: skip
    try:
        assert other.current_project_id == project.id
        assert list(other.network.networks()) == [] and list(other.network.subnets()) == []
        for attempt in (
            lambda: other.network.get_network(admin_net.id),
            lambda: other.network.update_network(admin_net.id, name="stolen"),
            lambda: other.network.delete_network(admin_net.id, ignore_missing=False),
            lambda: other.network.create_port(network_id=admin_net.id),
            lambda: other.network.create_subnet(network_id=admin_net.id, cidr="10.61.0.0/24", ip_version=4),
        ):
            with pytest.raises(sdk_exc.NotFoundException, match=f"Network {admin_net.id} could not be found"):
                attempt()
        with pytest.raises(sdk_exc.BadRequestException):
            other.network.create_network(name="x", project_id=conn.current_project_id)
        with pytest.raises(sdk_exc.ForbiddenException):
            other.network.update_quota(project.id, networks=1000)
        with pytest.raises(sdk_exc.ForbiddenException):
            other.network.get_quota(conn.current_project_id)
        assert other.network.get_quota(project.id).networks == 100

        own = other.network.create_network(name=_uniq("sdk-iso-own"))
        assert own.project_id == project.id
        assert [n.id for n in other.network.networks()] == [own.id]
        assert conn.network.get_network(own.id).project_id == project.id  # the admin sees it
        assert {own.id, admin_net.id} <= {n.id for n in conn.network.networks()}
        other.network.delete_network(own)
        assert conn.network.get_network(admin_net.id).name == admin_net.name  # untouched
    finally:
        other.close()
        conn.network.delete_network(admin_net.id, ignore_missing=True)
        conn.identity.delete_user(user.id)
        conn.identity.delete_project(project.id)


# --- pagination --------------------------------------------------------------------------------


def test_pagination_follows_links(conn):
    tag = _uniq("sdk-page")
    created = []
    try:
        for i in range(5):
            n = conn.network.create_network(name=f"{tag}-{i}")
            conn.network.set_tags(n, [tag])
            created.append(n.id)
        # filtered: 5 results, pages of 2 -> 3 pages
        got = [n.id for n in conn.network.networks(tags=[tag], limit=2)]
        assert sorted(got) == sorted(created) and len(got) == 5
        got = [n.id for n in conn.network.networks(tags=[tag], limit=2, paginated=True)]
        assert Counter(got) == Counter(created)
        # limit equal to the count: a full last page, then an empty one
        assert Counter(n.id for n in conn.network.networks(tags=[tag], limit=5)) == Counter(created)
        # unfiltered, everything the admin sees, each exactly once
        everything = [n.id for n in conn.network.networks(limit=2)]
        assert len(everything) == len(set(everything))
        assert set(created) <= set(everything)
        assert set(everything) == {n.id for n in conn.network.networks()}
        # sorted by name, descending, through pages
        names = [n.name for n in conn.network.networks(tags=[tag], limit=2, sort_key="name", sort_dir="desc")]
        assert names == [f"{tag}-{i}" for i in reversed(range(5))]
    finally:
        for nid in created:
            conn.network.delete_network(nid, ignore_missing=True)


# --- cloud layer -------------------------------------------------------------------------------


def test_cloud_layer(cloud_conn):
    c = cloud_conn
    name = _uniq("sdk-cloudnet")
    net = c.create_network(name)
    try:
        assert net.name == name and net.is_admin_state_up is True
        sub = c.create_subnet(name, cidr="10.30.0.0/24", subnet_name="sdk-cloudsub")  # enable_dhcp false
        assert sub.is_dhcp_enabled is False and sub.gateway_ip == "10.30.0.1"
        assert sub.network_id == net.id
        assert c.get_network(name).id == net.id
        assert name in {n.name for n in c.list_networks()}
        assert sub.id in {s.id for s in c.list_subnets()}
        assert c.get_subnet("sdk-cloudsub").cidr == "10.30.0.0/24"
        port = c.create_port(net.id, name="sdk-cloudport")
        assert port.fixed_ips[0]["subnet_id"] == sub.id
        assert c.delete_port(port.id) is True
        assert c.delete_subnet(sub.id) is True
    finally:
        assert c.delete_network(net.id) is True
    assert c.get_network(net.id) is None


# --- noauth ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def noauth_server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("neutrino-noauth"), auth="noauth") as srv:
        yield srv


def test_noauth_sdk(noauth_server, no_os_env):
    c = openstack.connect(auth_type="none", auth={"endpoint": noauth_server.url})
    try:
        net = c.network.create_network(name="sdk-noauth")
        sub = c.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.40.0.0/24")
        port = c.network.create_port(network_id=net.id)
        assert port.fixed_ips[0]["subnet_id"] == sub.id
        assert [n.id for n in c.network.networks()] == [net.id]
        assert net.project_id  # the bootstrap admin project acts when no X-Project-Id is sent
        c.network.delete_port(port)
        c.network.delete_network(net)
        assert list(c.network.networks()) == []
    finally:
        c.close()
    # and no token is needed for the keystone-less server, while the keystone one wants one
    assert httpx.get(noauth_server.url + "/v2.0/networks", timeout=HTTP_TIMEOUT).status_code == 200


def test_keystone_server_rejects_missing_and_bad_tokens(server):
    r = httpx.get(server.url + "/v2.0/networks", timeout=HTTP_TIMEOUT)
    assert r.status_code == 401
    r = httpx.get(server.url + "/v2.0/networks", headers={"X-Auth-Token": "bogus"}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 401


# --- concurrency over HTTP ---------------------------------------------------------------------


def _net_with_subnet(http: httpx.Client, cidr: str) -> str:
    r = http.post("/v2.0/networks", json={"network": {"name": _uniq("sdk-conc")}})
    assert r.status_code == 201, r.text
    net_id = r.json()["network"]["id"]
    r = http.post("/v2.0/subnets", json={"subnet": {"network_id": net_id, "cidr": cidr, "ip_version": 4}})
    assert r.status_code == 201, r.text
    return net_id


def test_parallel_port_creates_and_exhaustion_over_http(server):
    headers = {"X-Auth-Token": server.token()}
    local = threading.local()
    opened: list[httpx.Client] = []

    def client() -> httpx.Client:  # one keep-alive client per worker thread
        if not hasattr(local, "http"):
            local.http = httpx.Client(base_url=server.url, headers=headers, timeout=60)
            opened.append(local.http)
        return local.http

    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
        net_id = _net_with_subnet(http, "10.50.0.0/24")
        barrier = threading.Barrier(8)

        def worker(_: int) -> list[tuple[int, str, str]]:
            out = []
            barrier.wait()
            for _i in range(25):
                r = client().post("/v2.0/ports", json={"port": {"network_id": net_id}})
                port = r.json().get("port", {})
                out.append((r.status_code, port.get("mac_address", r.text), str(port.get("fixed_ips"))))
            return out

        with ThreadPoolExecutor(8) as pool:
            results = [x for chunk in pool.map(worker, range(8)) for x in chunk]
        assert Counter(code for code, _, _ in results) == {201: 200}, [r for r in results if r[0] != 201][:3]
        ports = http.get("/v2.0/ports", params={"network_id": net_id}).json()["ports"]
        assert len(ports) == 200
        ips = [f["ip_address"] for p in ports for f in p["fixed_ips"]]
        macs = [p["mac_address"] for p in ports]
        assert len(ips) == len(set(ips)) == 200
        assert len(macs) == len(set(macs)) == 200
        assert all(ipaddress.ip_address(ip) in ipaddress.ip_network("10.50.0.0/24") for ip in ips)

        # exhaust a /28 (13 addresses: .2 - .14) with 24 parallel requests
        small = _net_with_subnet(http, "10.51.0.0/28")

        def one(_: int) -> tuple[int, str]:
            r = client().post("/v2.0/ports", json={"port": {"network_id": small}})
            body = r.json()
            return r.status_code, body["port"]["fixed_ips"][0]["ip_address"] if r.status_code == 201 else (
                body.get("NeutronError", {}).get("type", r.text)
            )

        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(one, range(24)))
        assert Counter(code for code, _ in outcomes) == {201: 13, 409: 11}, outcomes
        assert {what for code, what in outcomes if code == 409} == {"IpAddressGenerationFailure"}
        got = sorted(ipaddress.ip_address(what) for code, what in outcomes if code == 201)
        assert got == [ipaddress.ip_address(f"10.51.0.{i}") for i in range(2, 15)]

        # cleanup (the port quota of the admin project is shared with the other tests)
        for nid in (net_id, small):
            for p in http.get("/v2.0/ports", params={"network_id": nid, "fields": "id"}).json()["ports"]:
                assert http.delete(f"/v2.0/ports/{p['id']}").status_code == 204
            assert http.delete(f"/v2.0/networks/{nid}").status_code == 204
    for c in opened:
        c.close()
