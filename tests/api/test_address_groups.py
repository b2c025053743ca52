"""Address groups and the default security group rule templates through the HTTP API."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.api

AGS = "/v2.0/address-groups"
TEMPLATES = "/v2.0/default-security-group-rules"
SGS = "/v2.0/security-groups"
RULES = "/v2.0/security-group-rules"


def _err(r):  # type: ignore[no-untyped-def]
    return r.status_code, r.json()["NeutronError"]["type"]


def _ag(api, **attrs):  # type: ignore[no-untyped-def]
    r = api.post(AGS, {"address_group": {"name": "ag", **attrs}})
    assert r.status_code == 201, r.text
    return r.json()["address_group"]


def test_address_group_lifecycle_and_actions(api):
    member = api.as_project("pa")
    group = _ag(member, description="d", addresses=["10.10.10.3/32", "192.168.0.10/24", "2001:db8::f00/64"])
    assert sorted(group["addresses"]) == ["10.10.10.3/32", "192.168.0.0/24", "2001:db8::/64"]
    assert group["project_id"] == "pa" and group["description"] == "d" and "tags" not in group
    gid = group["id"]
    path = f"{AGS}/{gid}"
    r = member.put(f"{path}/add_addresses", {"addresses": ["10.20.30.40/32"]})
    assert r.status_code == 200 and "10.20.30.40/32" in r.json()["address_group"]["addresses"]
    assert _err(member.put(f"{path}/add_addresses", {"addresses": ["10.20.30.40"]})) == (400, "AddressesAlreadyExist")
    assert _err(member.put(f"{path}/add_addresses", {"addresses": ["bad"]}))[0] == 400
    assert _err(member.put(f"{path}/remove_addresses", {"addresses": ["10.200.200.200"]})) == (404, "AddressesNotFound")
    r = member.put(f"{path}/remove_addresses", {"addresses": ["10.10.10.3/32"]})
    assert sorted(r.json()["address_group"]["addresses"]) == ["10.20.30.40/32", "192.168.0.0/24", "2001:db8::/64"]
    r = member.put(path, {"address_group": {"description": "new"}})
    assert r.status_code == 200 and r.json()["address_group"]["description"] == "new"
    assert _err(member.put(path, {"address_group": {"addresses": []}}))[0] == 400  # not writable by PUT
    # another project sees nothing
    assert _err(api.as_project("pb").get(path)) == (404, "AddressGroupNotFound")
    assert [g["id"] for g in member.get(AGS).json()["address_groups"]] == [gid]
    assert member.delete(path).status_code == 204
    assert member.get(path).status_code == 404


def test_create_refuses_addresses_without_prefix_length(api):
    for bad in (["10.20.30.40"], ["this is bad IP address"], ["10.0.0.0/8", "10.0.0.0/8"]):
        r = api.post(AGS, {"address_group": {"name": "x", "addresses": bad}})
        assert _err(r) == (400, "HTTPBadRequest"), bad
    assert api.get(AGS).json()["address_groups"] == []


def test_rule_with_remote_address_group_and_in_use(api):
    member = api.as_project("pa")
    group = _ag(member, addresses=["10.1.0.0/16"])
    sg = member.post(SGS, {"security_group": {"name": "web"}}).json()["security_group"]
    body = {"security_group_id": sg["id"], "direction": "ingress", "protocol": "tcp",
            "remote_address_group_id": group["id"]}  # fmt: skip
    r = member.post(RULES, {"security_group_rule": body})
    assert r.status_code == 201, r.text
    rule = r.json()["security_group_rule"]
    assert rule["remote_address_group_id"] == group["id"] and rule["remote_ip_prefix"] is None
    assert _err(member.post(RULES, {"security_group_rule": body})) == (409, "SecurityGroupRuleExists")
    both = dict(body, remote_ip_prefix="10.0.0.0/8")
    assert _err(member.post(RULES, {"security_group_rule": both})) == (400, "SecurityGroupMultipleRemoteEntites")
    hidden = _ag(api.as_project("pb"))
    r = member.post(RULES, {"security_group_rule": dict(body, remote_address_group_id=hidden["id"])})
    assert _err(r) == (404, "AddressGroupNotFound")
    listed = member.get(RULES, params={"remote_address_group_id": group["id"]}).json()["security_group_rules"]
    assert [x["id"] for x in listed] == [rule["id"]]
    assert _err(member.delete(f"{AGS}/{group['id']}")) == (409, "AddressGroupInUse")
    assert member.delete(f"{RULES}/{rule['id']}").status_code == 204
    assert member.delete(f"{AGS}/{group['id']}").status_code == 204


def _keys(rule):  # type: ignore[no-untyped-def]
    return (rule["direction"], rule["ethertype"], rule["remote_group_id"], rule["protocol"], rule["port_range_min"])


def test_default_rule_templates_legacy_set_and_new_groups(api):
    listed = api.get(TEMPLATES).json()["default_security_group_rules"]
    assert {(_keys(r), r["used_in_default_sg"], r["used_in_non_default_sg"], r["description"]) for r in listed} == {
        (("egress", "IPv4", None, None, None), True, True, "Legacy default SG rule for egress traffic"),
        (("egress", "IPv6", None, None, None), True, True, "Legacy default SG rule for egress traffic"),
        (("ingress", "IPv4", "PARENT", None, None), True, False, "Legacy default SG rule for ingress traffic"),
        (("ingress", "IPv6", "PARENT", None, None), True, False, "Legacy default SG rule for ingress traffic"),
    }
    ssh = {"direction": "ingress", "protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
           "used_in_default_sg": False, "used_in_non_default_sg": True}  # fmt: skip
    member = api.as_project("pa")
    assert _err(member.post(TEMPLATES, {"default_security_group_rule": ssh})) == (403, "PolicyNotAuthorized")
    r = api.post(TEMPLATES, {"default_security_group_rule": ssh})
    assert r.status_code == 201, r.text
    created = r.json()["default_security_group_rule"]
    assert created["remote_address_group_id"] is None and created["ethertype"] == "IPv4"
    # the same rule for the same kind of group is a duplicate, whatever the other flag says
    assert _err(api.post(TEMPLATES, {"default_security_group_rule": dict(ssh, used_in_default_sg=True)})) == (
        409, "DefaultSecurityGroupRuleExists",
    )  # fmt: skip
    missing = {k: v for k, v in ssh.items() if k != "used_in_default_sg"}
    assert _err(api.post(TEMPLATES, {"default_security_group_rule": missing}))[0] == 400
    assert member.get(f"{TEMPLATES}/{created['id']}").status_code == 200  # every user may read
    assert api.put(f"{TEMPLATES}/{created['id']}", {"default_security_group_rule": {}}).status_code == 405
    # a new custom group gets egress and ssh; the project's new default group does not get ssh
    custom = member.post(SGS, {"security_group": {"name": "c"}}).json()["security_group"]
    assert {_keys(x) for x in custom["security_group_rules"]} == {
        ("egress", "IPv4", None, None, None), ("egress", "IPv6", None, None, None),
        ("ingress", "IPv4", None, "tcp", 22),
    }  # fmt: skip
    [default] = member.get(SGS, params={"name": "default"}).json()["security_groups"]
    assert {_keys(x) for x in default["security_group_rules"]} == {
        ("egress", "IPv4", None, None, None), ("egress", "IPv6", None, None, None),
        ("ingress", "IPv4", default["id"], None, None), ("ingress", "IPv6", default["id"], None, None),
    }  # fmt: skip
    assert _err(member.delete(f"{TEMPLATES}/{created['id']}")) == (403, "PolicyNotAuthorized")
    assert api.delete(f"{TEMPLATES}/{created['id']}").status_code == 204
    assert _err(api.get(f"{TEMPLATES}/{created['id']}")) == (404, "DefaultSecurityGroupRuleNotFound")
    only_default = api.get(TEMPLATES, params={"used_in_non_default_sg": "false"}).json()["default_security_group_rules"]
    assert {r["direction"] for r in only_default} == {"ingress"}


def test_extensions_and_resources_are_announced(api):
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert {
        "address-group", "security-groups-remote-address-group", "security-groups-default-rules",
        "dns-integration", "dns-domain-ports", "multi-provider", "segment", "standard-attr-segment",
        "network-segment-range",
    } <= aliases  # fmt: skip
    assert "dns-integration-domain-keywords" not in aliases
    names = {r["collection"] for r in api.get("/v2.0/").json()["resources"]}
    assert {"address_groups", "default_security_group_rules", "network_segment_ranges"} <= names
