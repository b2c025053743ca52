"""Conntrack helpers of routers (l3-conntrack-helper, expose-l3-conntrack-helper) through the API."""

from __future__ import annotations

import pytest

from tests.api.ml2_support import ml2_server

pytestmark = pytest.mark.api


def _fault(r, status, type_):  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.json()["NeutronError"]["type"] == type_, r.text


def test_conntrack_helpers(tmp_path, database_url):
    with ml2_server(tmp_path, database_url) as (api, _):
        aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
        assert {"l3-conntrack-helper", "expose-l3-conntrack-helper"} <= aliases
        user = api.as_project("p-user")
        router = user.post("/v2.0/routers", {"router": {"name": "r"}}).json()["router"]
        assert router["conntrack_helpers"] == []
        base = f"/v2.0/routers/{router['id']}/conntrack_helpers"
        r = user.post(base, {"conntrack_helper": {"helper": "tftp", "protocol": "udp", "port": 69}})
        assert r.status_code == 201, r.text
        cth = r.json()["conntrack_helper"]
        assert cth == {"id": cth["id"], "router_id": router["id"], "helper": "tftp", "protocol": "udp", "port": 69}
        dup = user.post(base, {"conntrack_helper": {"helper": "tftp", "protocol": "udp", "port": 69}})
        _fault(dup, 400, "BadRequest")
        assert "A duplicate conntrack helper entry with same attributes already exists" in dup.text
        _fault(user.post(base, {"conntrack_helper": {"helper": "nope", "protocol": "tcp", "port": 1}}), 400,
               "ConntrackHelperNotAllowed")
        bad = user.post(base, {"conntrack_helper": {"helper": "tftp", "protocol": "tcp", "port": 69}})
        _fault(bad, 400, "InvalidProtocolForHelper")
        assert "Supported protocols are: udp" in bad.text
        _fault(user.post(base, {"conntrack_helper": {"helper": "ftp", "protocol": "tcp", "port": 0}}), 400, "HTTPBadRequest")
        _fault(user.post(base, {"conntrack_helper": {"helper": "ftp", "port": 21}}), 400, "HTTPBadRequest")
        assert user.post(base, {"conntrack_helper": {"helper": "ftp", "protocol": "6", "port": 21}}).status_code == 201
        up = user.put(f"{base}/{cth['id']}", {"conntrack_helper": {"port": 6969}})
        assert up.status_code == 200 and up.json()["conntrack_helper"]["port"] == 6969
        shown = user.get(f"/v2.0/routers/{router['id']}").json()["router"]["conntrack_helpers"]
        assert shown == [{"protocol": "tcp", "port": 21, "helper": "ftp"}, {"protocol": "udp", "port": 6969, "helper": "tftp"}]
        assert [h["helper"] for h in user.get(base + "?protocol=udp").json()["conntrack_helpers"]] == ["tftp"]
        assert len(api.get(base).json()["conntrack_helpers"]) == 2  # an admin sees them
        other = api.as_project("p-other")
        _fault(other.get(base), 404, "RouterNotFound")
        _fault(other.post(base, {"conntrack_helper": {"helper": "ftp", "protocol": "tcp", "port": 2121}}), 404,
               "RouterNotFound")
        assert user.delete(f"{base}/{cth['id']}").status_code == 204
        _fault(user.get(f"{base}/{cth['id']}"), 404, "ConntrackHelperNotFound")
        assert user.delete(f"/v2.0/routers/{router['id']}").status_code == 204  # its helpers go with it
