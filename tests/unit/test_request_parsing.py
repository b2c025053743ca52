"""Request bodies and list queries parsed per the attribute maps, without a server."""

from __future__ import annotations

import pytest

from neutrino import errors
from neutrino.api import body
from neutrino.api.attributes import NETWORK, PORT, SUBNET
from neutrino.api.query import page_links, parse_list_query
from neutrino.domain.context import Context

pytestmark = pytest.mark.unit

MEMBER = Context(project_id="p1", roles=frozenset({"member"}))
ADMIN = Context.admin("p0")


def test_create_fills_defaults_and_project():
    [item], bulk = body.parse_create(NETWORK, b'{"network": {"name": "a"}}', MEMBER)
    assert not bulk
    assert item == {
        "name": "a",
        "description": "",
        "admin_state_up": True,
        "shared": False,
        "port_security_enabled": True,
        "mtu": 0,  # net-mtu-writable: 0 is "the largest the segment carries"
        "dns_domain": "",  # dns-integration
        "project_id": "p1",
    }


def test_bulk():
    items, bulk = body.parse_create(NETWORK, b'{"networks": [{}, {"name": "b"}]}', MEMBER)
    assert bulk and [i["name"] for i in items] == ["", "b"]
    with pytest.raises(errors.HTTPBadRequest):
        body.parse_create(NETWORK, b'{"networks": []}', MEMBER)


def test_required_and_conversion():
    with pytest.raises(errors.HTTPBadRequest, match="Required attribute 'network_id'"):
        body.parse_create(PORT, b'{"port": {}}', MEMBER)
    [item], _ = body.parse_create(
        SUBNET,
        b'{"subnet": {"network_id": "5f2e0c5c-3f59-4d8a-a8b5-0d6c7c1f8e11", "ip_version": "4", "cidr": "10.0.0.9/24"}}',
        MEMBER,
    )
    assert item["ip_version"] == 4 and item["cidr"] == "10.0.0.0/24"
    assert "gateway_ip" not in item and "allocation_pools" not in item


def test_project_rules():
    with pytest.raises(errors.HTTPBadRequest, match="requires admin"):
        body.parse_create(NETWORK, b'{"network": {"project_id": "p2"}}', MEMBER)
    with pytest.raises(errors.HTTPBadRequest, match="do not match"):
        body.parse_create(NETWORK, b'{"network": {"project_id": "p2", "tenant_id": "p3"}}', ADMIN)
    [item], _ = body.parse_create(NETWORK, b'{"network": {"tenant_id": "p2"}}', ADMIN)
    assert item["project_id"] == "p2"


def test_update_rules():
    assert body.parse_update(NETWORK, b'{"network": {"name": "x"}}') == {"name": "x"}
    with pytest.raises(errors.HTTPBadRequest, match="read-only attribute id"):
        body.parse_update(NETWORK, b'{"network": {"id": "x"}}')
    with pytest.raises(errors.HTTPBadRequest, match="Unrecognized attribute"):
        body.parse_update(NETWORK, b'{"network": {"x": 1}}')


def test_list_query():
    q, fields = parse_list_query(
        NETWORK,
        [("name", "a"), ("name", "b"), ("shared", "False"), ("tenant_id", "p"), ("fields", "id"),
         ("sort_key", "name"), ("sort_dir", "desc"), ("limit", "2"), ("tags-any", "x,y")],
    )
    assert q.filters == {"name": ["a", "b"], "shared": [False], "project_id": ["p"]}
    assert fields == ["id"] and q.sorts == [("name", False)] and q.limit == 2
    assert q.tags_any == ["x", "y"]
    with pytest.raises(errors.HTTPBadRequest):
        parse_list_query(NETWORK, [("bogus", "1")])
    with pytest.raises(errors.HTTPBadRequest):
        parse_list_query(NETWORK, [("sort_key", "name")])
    q, _ = parse_list_query(NETWORK, [], max_limit=10)
    assert q.limit == 10


def test_page_links():
    q, _ = parse_list_query(NETWORK, [("limit", "2")])
    page = [{"id": "a"}, {"id": "b"}]
    links = page_links("http://h/v2.0/networks", [("limit", "2")], q, page)
    assert [link["rel"] for link in links] == ["next", "previous"]
    assert links[0]["href"] == "http://h/v2.0/networks?limit=2&marker=b"
    short = page_links("http://h/v2.0/networks", [("limit", "2")], q, [{"id": "a"}])
    assert [link["rel"] for link in short] == ["previous"]
