"""Networks through the HTTP API: attributes, defaults, errors, listing semantics."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.api


def test_versions_and_resources(api):
    r = api.get("/")
    assert r.status_code == 200
    v = r.json()["versions"][0]
    assert v["id"] == "v2.0" and v["status"] == "CURRENT" and v["links"][0]["rel"] == "self"
    names = {x["name"] for x in api.get("/v2.0/").json()["resources"]}
    assert {"network", "subnet", "port"} <= names


def test_extensions_list_and_probe(api):
    exts = api.get("/v2.0/extensions").json()["extensions"]
    aliases = {e["alias"] for e in exts}
    assert "standard-attr-tag" in aliases and "quotas" in aliases
    assert api.get("/v2.0/extensions/quotas").json()["extension"]["alias"] == "quotas"
    r = api.get("/v2.0/extensions/no-such-extension")
    assert r.status_code == 404


def test_create_defaults(api):
    r = api.post("/v2.0/networks", {"network": {}})
    assert r.status_code == 201
    n = r.json()["network"]
    assert n["name"] == "" and n["admin_state_up"] is True and n["status"] == "ACTIVE"
    assert n["shared"] is False and n["subnets"] == [] and n["mtu"] == 1500
    assert n["project_id"] == n["tenant_id"] == "p-admin"
    assert n["revision_number"] == 0 and n["tags"] == [] and n["description"] == ""
    assert n["created_at"].endswith("Z") and len(n["created_at"]) == 20


def test_show_update_delete(api):
    n = api.network(name="a")
    r = api.put(f"/v2.0/networks/{n['id']}", {"network": {"name": "b", "admin_state_up": "false"}})
    assert r.status_code == 200
    assert r.json()["network"]["name"] == "b"
    assert r.json()["network"]["admin_state_up"] is False
    assert r.json()["network"]["revision_number"] == 1
    assert api.get(f"/v2.0/networks/{n['id']}?fields=name").json() == {"network": {"name": "b"}}
    assert api.delete(f"/v2.0/networks/{n['id']}").status_code == 204
    r = api.get(f"/v2.0/networks/{n['id']}")
    assert r.status_code == 404
    assert r.json()["NeutronError"]["type"] == "NetworkNotFound"


def test_name_lookup_is_404(api):
    api.network(name="net1")
    assert api.get("/v2.0/networks/net1").status_code == 404
    assert len(api.get("/v2.0/networks?name=net1").json()["networks"]) == 1


@pytest.mark.parametrize(
    "body, message",
    [
        ({"network": {"bogus": 1}}, "Unrecognized attribute(s) 'bogus'"),
        ({"network": {"id": "x"}}, "Attribute 'id' not allowed in POST"),
        ({"network": {"status": "DOWN"}}, "Attribute 'status' not allowed in POST"),
        ({"network": {"name": "x" * 256}}, "exceeds maximum length of 255"),
        ({"network": {"admin_state_up": "maybe"}}, "cannot be converted to boolean"),
        ({"nothing": {}}, "Unable to find 'network' in request body"),
        ({"network": "text"}, "Unable to find 'network' in request body"),
    ],
)
def test_bad_create_bodies(api, body, message):
    r = api.post("/v2.0/networks", body)
    assert r.status_code == 400, r.text
    err = r.json()["NeutronError"]
    assert message in err["message"]
    assert err["type"] in ("HTTPBadRequest", "InvalidInput")
    assert api.get("/v2.0/networks").json()["networks"] == []


def test_malformed_json_and_empty_body(api):
    r = api.request("POST", "/v2.0/networks", content=b"{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "Malformed" in r.json()["NeutronError"]["message"]
    r = api.request("POST", "/v2.0/networks", content=b"")
    assert r.status_code == 400 and r.json()["NeutronError"]["message"] == "Resource body required"


def test_read_only_on_update(api):
    n = api.network()
    r = api.put(f"/v2.0/networks/{n['id']}", {"network": {"status": "DOWN"}})
    assert r.status_code == 400
    assert r.json()["NeutronError"]["message"] == "Cannot update read-only attribute status"


def test_bulk_create_is_atomic(api):
    ok = {"networks": [{"name": "a"}, {"name": "b"}]}
    r = api.post("/v2.0/networks", ok)
    assert r.status_code == 201 and [n["name"] for n in r.json()["networks"]] == ["a", "b"]
    bad = {"networks": [{"name": "c"}, {"name": "d", "shared": "junk"}]}
    assert api.post("/v2.0/networks", bad).status_code == 400
    quota = api.put("/v2.0/quotas/p-admin", {"quota": {"network": 3}})
    assert quota.status_code == 200
    r = api.post("/v2.0/networks", {"networks": [{"name": "c"}, {"name": "d"}]})
    assert r.status_code == 409 and r.json()["NeutronError"]["type"] == "OverQuota"
    names = sorted(n["name"] for n in api.get("/v2.0/networks").json()["networks"])
    assert names == ["a", "b"]


def test_filters(api):
    a = api.network(name="a")
    b = api.network(name="b", admin_state_up=False)
    api.network(name="c")
    got = api.get(f"/v2.0/networks?id={a['id']}&id={b['id']}").json()["networks"]
    assert sorted(n["name"] for n in got) == ["a", "b"]
    got = api.get("/v2.0/networks?admin_state_up=False").json()["networks"]
    assert [n["name"] for n in got] == ["b"]
    got = api.get("/v2.0/networks?name=a&admin_state_up=true").json()["networks"]
    assert [n["name"] for n in got] == ["a"]
    got = api.get("/v2.0/networks?tenant_id=p-admin&fields=id&fields=name").json()["networks"]
    assert all(set(n) == {"id", "name"} for n in got) and len(got) == 3
    r = api.get("/v2.0/networks?flavor=1")
    assert r.status_code == 400 and "invalid attribute for filtering" in r.json()["NeutronError"]["message"]


def test_sort_and_paginate(api):
    for name in ["d", "b", "a", "e", "c"]:
        api.network(name=name)
    r = api.get("/v2.0/networks?sort_key=name&sort_dir=asc&limit=2")
    body = r.json()
    assert [n["name"] for n in body["networks"]] == ["a", "b"]
    links = {link["rel"]: link["href"] for link in body["networks_links"]}
    assert "next" in links
    nxt = links["next"].split("/v2.0/")[1]
    body = api.get("/v2.0/" + nxt).json()
    assert [n["name"] for n in body["networks"]] == ["c", "d"]
    nxt = {lk["rel"]: lk["href"] for lk in body["networks_links"]}["next"].split("/v2.0/")[1]
    body = api.get("/v2.0/" + nxt).json()
    assert [n["name"] for n in body["networks"]] == ["e"]
    assert "next" not in {lk["rel"] for lk in body["networks_links"]}
    prev = {lk["rel"]: lk["href"] for lk in body["networks_links"]}["previous"].split("/v2.0/")[1]
    body = api.get("/v2.0/" + prev).json()
    assert [n["name"] for n in body["networks"]] == ["c", "d"]
    desc = api.get("/v2.0/networks?sort_key=name&sort_dir=desc").json()["networks"]
    assert [n["name"] for n in desc] == ["e", "d", "c", "b", "a"]
    assert api.get("/v2.0/networks?sort_key=name").status_code == 400
    assert api.get("/v2.0/networks?sort_key=subnets&sort_dir=asc").status_code == 400
    assert api.get("/v2.0/networks?limit=-1").status_code == 400
    assert api.get("/v2.0/networks?limit=x").status_code == 400


def test_empty_last_page_links_back(api):
    """The page reached through the last ``next`` link is empty but has a ``previous`` link
    (no marker, page_reverse) that reads the last page, as Neutron's pagination does."""
    for name in ["a", "b", "c", "d"]:
        api.network(name=name)
    url = "/v2.0/networks?sort_key=name&sort_dir=asc&limit=2"
    seen = []
    while url:
        body = api.get(url).json()
        seen += [n["name"] for n in body["networks"]]
        links = {lk["rel"]: lk["href"] for lk in body["networks_links"]}
        url = "/v2.0/" + links["next"].split("/v2.0/")[1] if "next" in links else None
    assert seen == ["a", "b", "c", "d"] and body["networks"] == []
    assert set(links) == {"previous"} and "marker" not in links["previous"]
    back = api.get("/v2.0/" + links["previous"].split("/v2.0/")[1]).json()
    assert [n["name"] for n in back["networks"]] == ["c", "d"]
    assert "next" in {lk["rel"] for lk in back["networks_links"]}


def test_if_match_revision(api):
    n = api.network()
    url = f"/v2.0/networks/{n['id']}"
    r = api.put(url, {"network": {"name": "x"}}, headers={"If-Match": "revision_number=5"})
    assert r.status_code == 412
    assert r.json()["NeutronError"]["type"] == "RevisionNumberConstraintFailed"
    r = api.put(url, {"network": {"name": "x"}}, headers={"If-Match": "revision_number=0"})
    assert r.status_code == 200 and r.json()["network"]["revision_number"] == 1
    assert api.delete(url, headers={"If-Match": "revision_number=0"}).status_code == 412
    assert api.delete(url, headers={"If-Match": "revision_number=1"}).status_code == 204


def test_tags(api):
    n = api.network()
    base = f"/v2.0/networks/{n['id']}/tags"
    assert api.put(base + "/red").status_code == 201
    assert api.get(base + "/red").status_code == 204
    assert api.get(base + "/blue").status_code == 404
    assert api.put(base, {"tags": ["b", "a"]}).json() == {"tags": ["a", "b"]}
    assert api.get(base).json() == {"tags": ["a", "b"]}
    assert api.get(f"/v2.0/networks/{n['id']}").json()["network"]["revision_number"] == 2
    m = api.network()
    api.put(f"/v2.0/networks/{m['id']}/tags", {"tags": ["a", "c"]})
    ids = lambda q: sorted(x["id"] for x in api.get("/v2.0/networks?" + q).json()["networks"])  # noqa: E731
    assert ids("tags=a,b") == [n["id"]]
    assert ids("tags=a") == sorted([n["id"], m["id"]])
    assert ids("tags-any=b,c") == sorted([n["id"], m["id"]])
    assert ids("not-tags=a,b") == [m["id"]]
    assert ids("not-tags-any=b") == [m["id"]]
    assert api.delete(base + "/a").status_code == 204
    assert api.delete(base + "/a").status_code == 404
    assert api.delete(base).status_code == 204
    assert api.get(base).json() == {"tags": []}
    assert api.put(base, {"tags": ["x" * 256]}).status_code == 400
    assert api.put(base, {"tags": [str(i) for i in range(51)]}).status_code == 400


def test_quotas(api):
    q = api.get("/v2.0/quotas/p-admin").json()["quota"]
    assert {"network": 100, "subnet": 100, "port": 500}.items() <= q.items()  # + other resources
    assert api.put("/v2.0/quotas/p1", {"quota": {"network": 1}}).json()["quota"]["network"] == 1
    assert api.get("/v2.0/quotas").json()["quotas"][0]["project_id"] == "p1"
    member = api.as_project("p1")
    member.network()
    r = member.post("/v2.0/networks", {"network": {}})
    assert r.status_code == 409
    assert r.json()["NeutronError"] == {
        "type": "OverQuota",
        "message": "Quota exceeded for resources: ['network'].",
        "detail": "",
    }
    d = api.get("/v2.0/quotas/p1/details.json").json()["quota"]
    assert d["network"] == {"limit": 1, "used": 1, "reserved": 0}
    assert member.put("/v2.0/quotas/p1", {"quota": {"network": 5}}).status_code == 403
    assert member.get("/v2.0/quotas/p-admin").status_code == 403
    assert api.put("/v2.0/quotas/p1", {"quota": {"network": -2}}).status_code == 400
    assert api.put("/v2.0/quotas/p1", {"quota": {"bogus": 1}}).status_code == 400
    assert api.delete("/v2.0/quotas/p1").status_code == 204
    assert api.get("/v2.0/quotas/p1/default").json()["quota"]["network"] == 100


def test_projects_are_isolated(api):
    a = api.as_project("pa")
    b = api.as_project("pb")
    net = a.network(name="secret")
    assert b.get(f"/v2.0/networks/{net['id']}").status_code == 404
    assert b.get("/v2.0/networks").json()["networks"] == []
    assert b.put(f"/v2.0/networks/{net['id']}", {"network": {"name": "x"}}).status_code == 404
    assert b.delete(f"/v2.0/networks/{net['id']}").status_code == 404
    r = b.post("/v2.0/networks", {"network": {"project_id": "pa"}})
    assert r.status_code == 400
    assert a.post("/v2.0/networks", {"network": {"shared": True}}).status_code == 403
    shared = api.network(shared=True, project_id="pa")
    assert b.get(f"/v2.0/networks/{shared['id']}").status_code == 200
    assert b.put(f"/v2.0/networks/{shared['id']}", {"network": {"name": "y"}}).status_code == 403
    admin_sees = {n["id"] for n in api.get("/v2.0/networks").json()["networks"]}
    assert {net["id"], shared["id"]} <= admin_sees


def test_reader_cannot_write(api):
    reader = api.as_project("pa", roles="reader")
    r = reader.post("/v2.0/networks", {"network": {}})
    assert r.status_code == 403 and r.json()["NeutronError"]["type"] == "PolicyNotAuthorized"
    assert reader.get("/v2.0/networks").status_code == 200


def test_unknown_path_is_neutron_404(api):
    r = api.get("/v2.0/nothing")
    assert r.status_code == 404 and r.json()["NeutronError"]["type"] == "HTTPNotFound"
