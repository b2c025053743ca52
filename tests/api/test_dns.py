"""dns-integration and dns-domain-ports through the HTTP API: a network's dns_domain, a port's
dns_name / dns_domain and dns_assignment, with the server's dns_domain default and set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Api, make_settings

pytestmark = pytest.mark.api


@pytest.fixture
def gate(tmp_path) -> Iterator[Api]:  # type: ignore[no-untyped-def]
    """A server whose dns_domain is set (names are honoured), as the upstream gate runs it."""
    from neutrino.server import build

    built = build(make_settings(tmp_path, dns_domain="openstackgate.local"), write_files=False)
    with TestClient(built.app, raise_server_exceptions=False) as c:
        yield Api(c, "p-admin")
    built.state.close()


def _err(r):  # type: ignore[no-untyped-def]
    return r.status_code, r.json()["NeutronError"]["type"], r.json()["NeutronError"]["message"]


def test_network_dns_domain_create_update_and_validation(api):
    net = api.network(dns_domain="Test.ORG.")
    assert net["dns_domain"] == "test.org."
    r = api.put(f"/v2.0/networks/{net['id']}", {"network": {"dns_domain": "d.org."}})
    assert r.json()["network"]["dns_domain"] == "d.org."
    assert r.json()["network"]["revision_number"] == net["revision_number"] + 1
    r = api.put(f"/v2.0/networks/{net['id']}", {"network": {"dns_domain": ""}})
    assert r.json()["network"]["dns_domain"] == ""
    assert api.network()["dns_domain"] == ""
    status, kind, message = _err(api.post("/v2.0/networks", {"network": {"dns_domain": "no-dot.org"}}))
    assert (status, kind) == (400, "HTTPBadRequest") and "'no-dot.org' is not a FQDN" in message
    status, _, message = _err(api.post("/v2.0/networks", {"network": {"dns_domain": "-bad.org."}}))
    assert status == 400 and "must not start or end with a hyphen" in message


def test_default_server_domain_drops_port_names(api):
    net = api.network()
    api.subnet(net["id"], "10.0.0.0/24")
    r = api.post("/v2.0/ports", {"port": {"network_id": net["id"], "dns_name": "d1", "dns_domain": "t.org."}})
    port = r.json()["port"]
    assert port["dns_name"] == "" and port["dns_domain"] == ""
    [a] = port["dns_assignment"]
    ip = port["fixed_ips"][0]["ip_address"]
    host = "host-" + ip.replace(".", "-")
    assert a == {"hostname": host, "ip_address": ip, "fqdn": f"{host}.openstacklocal."}


def test_port_names_under_a_set_server_domain(gate):
    net = gate.network()
    gate.subnet(net["id"], "10.0.0.0/24")
    port = gate.post("/v2.0/ports", {"port": {"network_id": net["id"], "dns_name": "D1",
                                              "dns_domain": "test.org."}}).json()["port"]  # fmt: skip
    assert port["dns_name"] == "d1" and port["dns_domain"] == "test.org."
    ip = port["fixed_ips"][0]["ip_address"]
    assert port["dns_assignment"] == [{"hostname": "d1", "ip_address": ip, "fqdn": "d1.openstackgate.local."}]
    path = f"/v2.0/ports/{port['id']}"
    r = gate.put(path, {"port": {"dns_name": "d2", "dns_domain": "d.org."}})
    updated = r.json()["port"]
    assert (updated["dns_name"], updated["dns_domain"]) == ("d2", "d.org.")
    assert updated["dns_assignment"][0]["hostname"] == "d2"
    assert updated["revision_number"] == port["revision_number"] + 1
    shown = gate.get(path).json()["port"]
    assert shown["dns_assignment"][0]["fqdn"] == "d2.openstackgate.local."
    # no name: host-<ip>
    plain = gate.post("/v2.0/ports", {"port": {"network_id": net["id"]}}).json()["port"]
    assert plain["dns_name"] == "" and plain["dns_assignment"][0]["hostname"].startswith("host-")
    # an absolute name must end with the server's domain; a relative one must fit with it
    status, _, message = _err(gate.put(path, {"port": {"dns_name": "vm.other.org."}}))
    assert status == 400 and "Its higher level labels must be equal to the dns_domain" in message
    assert gate.put(path, {"port": {"dns_name": "vm.openstackgate.local."}}).status_code == 200
    long = ".".join(["a" * 60] * 4)  # 243 characters: with the domain over 255
    status, _, message = _err(gate.put(path, {"port": {"dns_name": long}}))
    assert status == 400 and "The dns_name passed is a PQDN and its size is '243'" in message
    status, _, message = _err(gate.put(path, {"port": {"dns_name": "a_b"}}))
    assert status == 400 and "must be 1-63 characters long" in message
    assert gate.get(path).json()["port"]["dns_name"] == "vm.openstackgate.local."


def test_floating_ip_dns_attributes_are_checked_and_not_kept(api):
    """Without an external DNS service Neutron validates a floating IP's dns_name/dns_domain
    and reports both as ''."""
    ext = api.network(**{"router:external": True})
    api.subnet(ext["id"], "172.24.4.0/24")
    body = {"floating_network_id": ext["id"], "dns_name": "vm1", "dns_domain": "example.org."}
    r = api.post("/v2.0/floatingips", {"floatingip": body})
    assert r.status_code == 201, r.text
    fip = r.json()["floatingip"]
    assert (fip["dns_name"], fip["dns_domain"]) == ("", "")
    status, _, message = _err(api.post("/v2.0/floatingips", {"floatingip": dict(body, dns_name="vm1.example.org.")}))
    assert status == 400 and "It should be a relative domain name" in message
    r = api.put(f"/v2.0/floatingips/{fip['id']}", {"floatingip": {"dns_name": "x"}})
    assert r.status_code == 400  # POST only
