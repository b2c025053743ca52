"""Ports and security: default group, explicit groups, port_security_enabled, allowed
address pairs and extra DHCP options through the HTTP API, with Neutron's errors."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.api

PORTS = "/v2.0/ports"


def _err(r):  # type: ignore[no-untyped-def]
    return r.status_code, r.json()["NeutronError"]["type"]


def _sg(api, name="sg"):  # type: ignore[no-untyped-def]
    r = api.post("/v2.0/security-groups", {"security_group": {"name": name}})
    assert r.status_code == 201, r.text
    return r.json()["security_group"]["id"]


def _default_id(api):  # type: ignore[no-untyped-def]
    groups = api.get("/v2.0/security-groups").json()["security_groups"]
    return next(g["id"] for g in groups if g["name"] == "default")


@pytest.fixture
def net(api):  # type: ignore[no-untyped-def]
    n = api.network()
    api.subnet(n["id"])
    return n


def _update(api, port_id, **attrs):  # type: ignore[no-untyped-def]
    return api.put(f"{PORTS}/{port_id}", {"port": attrs})


def test_port_gets_the_default_group(api, net):
    port = api.port(net["id"])
    assert port["security_groups"] == [_default_id(api)]
    assert port["port_security_enabled"] is True
    assert port["allowed_address_pairs"] == [] and port["extra_dhcp_opts"] == []
    assert api.get(f"{PORTS}/{port['id']}").json()["port"]["security_groups"] == port["security_groups"]
    listed = api.get(PORTS, params={"id": port["id"]}).json()["ports"][0]
    assert {k: listed[k] for k in ("security_groups", "port_security_enabled")} == {
        "security_groups": port["security_groups"], "port_security_enabled": True,
    }


def test_network_owned_ports_get_no_group(api, net):
    for owner in ("network:dhcp", "network:router_interface", "network:floatingip"):
        assert api.port(net["id"], device_owner=owner)["security_groups"] == []
    assert api.port(net["id"], device_owner="compute:nova")["security_groups"] == [_default_id(api)]


def test_explicit_and_empty_groups(api, net):
    a, b = _sg(api, "a"), _sg(api, "b")
    assert api.port(net["id"], security_groups=[])["security_groups"] == []
    port = api.port(net["id"], security_groups=[b, a])
    assert port["security_groups"] == sorted([a, b])
    # twice the same group: 400, as neutron-lib's uuid_list validator
    r = api.post(PORTS, {"port": {"network_id": net["id"], "security_groups": [a, a]}})
    assert _err(r) == (400, "HTTPBadRequest") and "Duplicate items in the list" in r.json()["NeutronError"]["message"]
    assert _err(_update(api, port["id"], security_groups=[a, a])) == (400, "HTTPBadRequest")
    assert api.get(PORTS, params={"security_groups": a}).json()["ports"][0]["id"] == port["id"]
    r = _update(api, port["id"], security_groups=[a])
    assert r.status_code == 200 and r.json()["port"]["security_groups"] == [a]
    assert r.json()["port"]["revision_number"] == port["revision_number"] + 1
    r = _update(api, port["id"], security_groups=None)
    assert r.status_code == 200 and r.json()["port"]["security_groups"] == []
    missing = "4a2a8d2c-3bc5-4a31-a5a6-9d0c8e8a4f00"
    assert _err(api.post(PORTS, {"port": {"network_id": net["id"], "security_groups": [missing]}})) == (
        404, "SecurityGroupNotFound",
    )
    assert _err(api.post(PORTS, {"port": {"network_id": net["id"], "security_groups": ["nope"]}})) == (
        400, "InvalidInput",
    )
    assert _err(api.post(PORTS, {"port": {"network_id": net["id"], "security_groups": "nope"}})) == (
        400, "InvalidInput",
    )


def test_members_use_only_their_groups(api):
    a, b = api.as_project("pa"), api.as_project("pb")
    theirs = _sg(a, "theirs")
    net = b.network()
    b.subnet(net["id"])
    r = b.post(PORTS, {"port": {"network_id": net["id"], "security_groups": [theirs]}})
    assert _err(r) == (404, "SecurityGroupNotFound")
    assert b.get(PORTS).json()["ports"] == []  # nothing half-written
    port = b.port(net["id"])
    assert _err(_update(b, port["id"], security_groups=[theirs])) == (404, "SecurityGroupNotFound")
    # an admin may attach any group
    assert api.port(net["id"], security_groups=[theirs])["security_groups"] == [theirs]


def test_port_security_is_inherited_from_the_network(api):
    net = api.network(port_security_enabled=False)
    api.subnet(net["id"])
    port = api.port(net["id"])
    assert port["port_security_enabled"] is False and port["security_groups"] == []
    assert api.get(f"{PORTS}/{port['id']}").json()["port"]["port_security_enabled"] is False
    on = api.port(net["id"], port_security_enabled=True)
    assert on["port_security_enabled"] is True and on["security_groups"] == [_default_id(api)]
    assert [p["id"] for p in api.get(PORTS, params={"port_security_enabled": "false"}).json()["ports"]] == [port["id"]]


def test_port_security_off_refuses_groups_and_pairs(api, net):
    sg = _sg(api)
    body = {"network_id": net["id"], "port_security_enabled": False}
    assert _err(api.post(PORTS, {"port": {**body, "security_groups": [sg]}})) == (
        400, "PortSecurityAndIPRequiredForSecurityGroups",
    )
    assert _err(api.post(PORTS, {"port": {**body, "allowed_address_pairs": [{"ip_address": "10.0.0.9"}]}})) == (
        409, "AddressPairAndPortSecurityRequired",
    )
    off = api.port(net["id"], port_security_enabled=False, security_groups=[])
    assert off["security_groups"] == [] and off["port_security_enabled"] is False
    assert _err(_update(api, off["id"], security_groups=[sg])) == (400, "PortSecurityAndIPRequiredForSecurityGroups")
    assert _err(_update(api, off["id"], allowed_address_pairs=[{"ip_address": "10.0.0.9"}])) == (
        409, "AddressPairAndPortSecurityRequired",
    )


def test_groups_on_a_port_without_an_address(api):
    """As in Neutron's ML2, only port security is needed: not a fixed IP."""
    sg, other = _sg(api, "a"), _sg(api, "b")
    bare = api.network()
    port = api.port(bare["id"], security_groups=[sg])
    assert port["fixed_ips"] == [] and port["security_groups"] == [sg]
    r = _update(api, port["id"], security_groups=[other])
    assert r.status_code == 200, r.text
    assert r.json()["port"]["security_groups"] == [other]


def test_stateful_and_stateless_groups_not_mixed(api, net):
    stateful = _sg(api, "full")
    r = api.post("/v2.0/security-groups", {"security_group": {"name": "less", "stateful": False}})
    assert r.status_code == 201 and r.json()["security_group"]["stateful"] is False
    stateless = r.json()["security_group"]["id"]
    assert _err(api.post(PORTS, {"port": {"network_id": net["id"], "security_groups": [stateful, stateless]}})) == (
        409, "SecurityGroupConflict",
    )
    assert api.get(PORTS, params={"network_id": net["id"]}).json()["ports"] == []
    port = api.port(net["id"], security_groups=[stateless])
    assert _err(_update(api, port["id"], security_groups=[stateless, stateful])) == (409, "SecurityGroupConflict")
    assert api.get(f"{PORTS}/{port['id']}").json()["port"]["security_groups"] == [stateless]
    # a group in use cannot change its statefulness
    assert _err(api.put(f"/v2.0/security-groups/{stateless}", {"security_group": {"stateful": True}})) == (
        409, "SecurityGroupInUse",
    )


def test_disabling_port_security(api, net):
    sg = _sg(api)
    port = api.port(net["id"], security_groups=[sg], allowed_address_pairs=[{"ip_address": "10.0.0.50"}])
    assert _err(_update(api, port["id"], port_security_enabled=False)) == (409, "AddressPairAndPortSecurityRequired")
    r = _update(api, port["id"], port_security_enabled=False, allowed_address_pairs=[])
    assert _err(r) == (409, "PortSecurityPortHasSecurityGroup")
    shown = api.get(f"{PORTS}/{port['id']}").json()["port"]
    assert shown["allowed_address_pairs"] and shown["port_security_enabled"] is True  # nothing half-done
    r = _update(api, port["id"], port_security_enabled=False, allowed_address_pairs=[], security_groups=[])
    assert r.status_code == 200, r.text
    done = r.json()["port"]
    assert done["port_security_enabled"] is False and done["security_groups"] == []
    assert done["allowed_address_pairs"] == []
    r = _update(api, port["id"], port_security_enabled=True, security_groups=[sg])
    assert r.status_code == 200 and r.json()["port"]["security_groups"] == [sg]


def test_allowed_address_pairs(api, net):
    port = api.port(net["id"], allowed_address_pairs=[
        {"ip_address": "10.0.0.50"}, {"ip_address": "192.168.0.0/24", "mac_address": "FA:16:3E:00:00:09"},
    ])
    assert port["allowed_address_pairs"] == [
        {"ip_address": "10.0.0.50", "mac_address": port["mac_address"]},
        {"ip_address": "192.168.0.0/24", "mac_address": "fa:16:3e:00:00:09"},
    ]
    r = _update(api, port["id"], allowed_address_pairs=[{"ip_address": "10.0.0.51"}])
    assert r.status_code == 200
    assert r.json()["port"]["allowed_address_pairs"] == [{"ip_address": "10.0.0.51", "mac_address": port["mac_address"]}]
    assert r.json()["port"]["revision_number"] == port["revision_number"] + 1
    same = _update(api, port["id"], allowed_address_pairs=[{"ip_address": "10.0.0.51"}])
    assert same.json()["port"]["revision_number"] == port["revision_number"] + 1  # no change, no bump
    assert _update(api, port["id"], allowed_address_pairs=[]).json()["port"]["allowed_address_pairs"] == []
    many = [{"ip_address": f"10.1.0.{i}"} for i in range(11)]
    for pairs, expected in (
        (many, (400, "AllowedAddressPairExhausted")),
        ([{"ip_address": "10.0.0.5"}, {"ip_address": "10.0.0.5"}], (400, "DuplicateAddressPairInRequest")),
        ([{"mac_address": "fa:16:3e:00:00:09"}], (400, "AllowedAddressPairsMissingIP")),
        ([{"ip_address": "bogus"}], (400, "HTTPBadRequest")),
    ):
        assert _err(_update(api, port["id"], allowed_address_pairs=pairs)) == expected
        assert _err(api.post(PORTS, {"port": {"network_id": net["id"], "allowed_address_pairs": pairs}})) == expected
    assert len(api.get(PORTS).json()["ports"]) == 1


def test_extra_dhcp_opts(api, net):
    port = api.port(net["id"], extra_dhcp_opts=[
        {"opt_name": "bootfile-name", "opt_value": "pxelinux.0"},
        {"opt_name": "tftp-server", "opt_value": "10.0.0.10"},
        {"opt_name": "dns-server", "opt_value": "2001:db8::1", "ip_version": 6},
        {"opt_name": "skipped", "opt_value": None},
    ])
    assert port["extra_dhcp_opts"] == [
        {"opt_name": "bootfile-name", "opt_value": "pxelinux.0", "ip_version": 4},
        {"opt_name": "dns-server", "opt_value": "2001:db8::1", "ip_version": 6},
        {"opt_name": "tftp-server", "opt_value": "10.0.0.10", "ip_version": 4},
    ]
    r = _update(api, port["id"], extra_dhcp_opts=[
        {"opt_name": "bootfile-name", "opt_value": "grub.efi"},
        {"opt_name": "tftp-server", "opt_value": None},
        {"opt_name": "router", "opt_value": ""},
    ])
    assert r.status_code == 200, r.text
    assert r.json()["port"]["extra_dhcp_opts"] == [
        {"opt_name": "bootfile-name", "opt_value": "grub.efi", "ip_version": 4},
        {"opt_name": "dns-server", "opt_value": "2001:db8::1", "ip_version": 6},
        {"opt_name": "router", "opt_value": "", "ip_version": 4},
    ]
    assert r.json()["port"]["revision_number"] == port["revision_number"] + 1
    unchanged = _update(api, port["id"], extra_dhcp_opts=[], name="renamed").json()["port"]
    assert len(unchanged["extra_dhcp_opts"]) == 3
    for bad in ([{"opt_name": "x"}], [{"opt_name": "x" * 65, "opt_value": "v"}], [{"opt_name": "x", "opt_value": ""}],
                [{"opt_name": "x", "opt_value": "v", "ip_version": 5}], "x"):
        assert _err(_update(api, port["id"], extra_dhcp_opts=bad)) == (400, "ExtraDhcpOptBadData")
    assert len(api.get(f"{PORTS}/{port['id']}").json()["port"]["extra_dhcp_opts"]) == 3


def test_deleting_a_port_releases_its_groups(api, net):
    sg = _sg(api)
    port = api.port(net["id"], security_groups=[sg], allowed_address_pairs=[{"ip_address": "10.0.0.9"}],
                    extra_dhcp_opts=[{"opt_name": "a", "opt_value": "b"}])
    assert api.delete(f"/v2.0/security-groups/{sg}").status_code == 409
    assert api.delete(f"{PORTS}/{port['id']}").status_code == 204
    assert api.delete(f"/v2.0/security-groups/{sg}").status_code == 204
    other = api.port(net["id"], security_groups=[_sg(api, "x")])
    assert api.delete(f"/v2.0/networks/{net['id']}").status_code == 409  # still a port on it
    assert api.delete(f"{PORTS}/{other['id']}").status_code == 204
    assert api.delete(f"/v2.0/networks/{net['id']}").status_code == 204


def test_owner_only_attributes_on_a_shared_network(api):
    """On another project's shared network a member may not set port_security_enabled or
    allowed_address_pairs (403, Neutron's ADMIN_OR_NET_OWNER policy), on create or update, and
    nothing is left behind; the network's owner and an admin may."""
    owner, other = api.as_project("pa"), api.as_project("pb")
    shared = api.network(shared=True, project_id="pa")
    owner.subnet(shared["id"])
    pairs = [{"ip_address": "1.1.1.1"}]
    for attrs in ({"port_security_enabled": False}, {"port_security_enabled": True},
                  {"allowed_address_pairs": pairs}):
        r = other.post(PORTS, {"port": {"network_id": shared["id"], **attrs}})
        assert _err(r) == (403, "PolicyNotAuthorized"), attrs
    assert other.get(PORTS).json()["ports"] == []
    port = other.port(shared["id"])
    assert _err(_update(other, port["id"], allowed_address_pairs=pairs)) == (403, "PolicyNotAuthorized")
    assert _err(_update(other, port["id"], port_security_enabled=False)) == (403, "PolicyNotAuthorized")
    assert other.get(f"{PORTS}/{port['id']}").json()["port"]["allowed_address_pairs"] == []
    assert _update(other, port["id"], name="fine").status_code == 200
    assert owner.port(shared["id"], allowed_address_pairs=pairs)["allowed_address_pairs"][0]["ip_address"] == "1.1.1.1"
    assert api.port(shared["id"], port_security_enabled=False, security_groups=[])["port_security_enabled"] is False
    own = other.network()
    other.subnet(own["id"])
    assert other.port(own["id"], port_security_enabled=False, security_groups=[])["port_security_enabled"] is False
