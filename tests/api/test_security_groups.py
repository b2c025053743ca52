"""Security groups and rules through the HTTP API: the lazily created ``default`` group, rule
validation and duplicates, visibility between projects, quotas and in-use rules."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from neutrino.db.engine import run_in_transaction
from neutrino.domain.models import SecurityGroup
from neutrino.domain.services import security_groups
from tests.conftest import make_settings

pytestmark = pytest.mark.api

SGS = "/v2.0/security-groups"
RULES = "/v2.0/security-group-rules"


def _err(r):  # type: ignore[no-untyped-def]
    return r.status_code, r.json()["NeutronError"]["type"]


def _sg(api, name="sg1", **attrs):  # type: ignore[no-untyped-def]
    r = api.post(SGS, {"security_group": {"name": name, **attrs}})
    assert r.status_code == 201, r.text
    return r.json()["security_group"]


def _rule(api, sg_id, **attrs):  # type: ignore[no-untyped-def]
    return api.post(RULES, {"security_group_rule": {"security_group_id": sg_id, "direction": "ingress", **attrs}})


def _default(api):  # type: ignore[no-untyped-def]
    [group] = [g for g in api.get(SGS).json()["security_groups"] if g["name"] == "default"]
    return group


def test_default_group_is_created_once_on_list(api):
    member = api.as_project("pa")
    groups = member.get(SGS).json()["security_groups"]
    assert [g["name"] for g in groups] == ["default"]
    group = groups[0]
    assert group["description"] == "Default security group" and group["project_id"] == "pa"
    assert group["stateful"] is True and group["shared"] is False and group["tags"] == []
    rules = {(r["direction"], r["ethertype"], r["remote_group_id"]) for r in group["security_group_rules"]}
    assert rules == {
        ("egress", "IPv4", None), ("egress", "IPv6", None),
        ("ingress", "IPv4", group["id"]), ("ingress", "IPv6", group["id"]),
    }
    assert all(r["protocol"] is None and r["remote_ip_prefix"] is None for r in group["security_group_rules"])
    assert member.get(SGS).json()["security_groups"][0]["id"] == group["id"]
    # listing rules ensures it too, and shows the same four
    assert len(member.get(RULES).json()["security_group_rules"]) == 4
    # an admin filtering on a project makes sure that project has its group (as Neutron does)
    listed = api.get(SGS, params={"project_id": "pc"}).json()["security_groups"]
    assert [(g["name"], g["project_id"]) for g in listed] == [("default", "pc")]


def test_default_group_is_created_with_a_network_and_a_port(api):
    api.as_project("pn").network()
    other = api.as_project("pp")
    net = api.network(shared=True)
    api.subnet(net["id"])
    port = other.port(net["id"])
    everyone = api.get(SGS).json()["security_groups"]  # the admin sees all projects' groups
    defaults = {g["project_id"]: g["id"] for g in everyone if g["name"] == "default"}
    assert {"pn", "pp", "p-admin"} <= set(defaults)
    assert port["security_groups"] == [defaults["pp"]]


@pytest.fixture
def state(tmp_path, database_url):  # type: ignore[no-untyped-def]
    from neutrino.server import build

    built = build(make_settings(tmp_path, database_url=database_url), write_files=False)
    yield built.state
    built.state.close()


def test_parallel_requests_create_one_default_group(state):
    barrier = threading.Barrier(8)

    def one(i):  # type: ignore[no-untyped-def]
        barrier.wait()
        return run_in_transaction(
            state.sessions, lambda s: security_groups.ensure_default_security_group(s, f"race{i % 2}")
        )

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(one, range(8)))
    assert len(set(ids)) == 2
    with state.sessions() as s:
        counts = dict(
            s.execute(
                select(SecurityGroup.project_id, func.count())
                .where(SecurityGroup.name == "default")
                .group_by(SecurityGroup.project_id)
            ).all()
        )
    assert counts == {"race0": 1, "race1": 1}


def test_parallel_identical_rules_give_one_rule(state):
    from neutrino import errors
    from neutrino.domain.context import Context
    from neutrino.domain.services import security_group_rules

    ctx = Context.admin("p")
    group = run_in_transaction(
        state.sessions, lambda s: security_groups.create(s, ctx, state.domain, {"project_id": "p", "name": "g"}).id
    )
    barrier = threading.Barrier(6)
    body = {"project_id": "p", "security_group_id": group, "direction": "ingress", "protocol": "tcp",
            "port_range_min": 22, "port_range_max": 22}

    def one(_):  # type: ignore[no-untyped-def]
        barrier.wait()
        try:
            run_in_transaction(state.sessions, lambda s: security_group_rules.create(s, ctx, state.domain, dict(body)))
            return "made"
        except errors.SecurityGroupRuleExists:
            return "exists"

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(one, range(6)))
    assert sorted(outcomes) == ["exists"] * 5 + ["made"]


def test_user_group_lifecycle(api):
    sg = _sg(api, "web", description="d")
    assert sg["description"] == "d" and sg["stateful"] is True and sg["revision_number"] == 0
    assert {(r["direction"], r["ethertype"]) for r in sg["security_group_rules"]} == {
        ("egress", "IPv4"), ("egress", "IPv6")
    }
    assert all(r["remote_group_id"] is None for r in sg["security_group_rules"])
    assert api.get(f"{SGS}/{sg['id']}").json()["security_group"]["security_group_rules"] == sg["security_group_rules"]
    r = api.put(f"{SGS}/{sg['id']}", {"security_group": {"name": "web2", "description": "e"}})
    assert r.status_code == 200
    assert r.json()["security_group"]["name"] == "web2" and r.json()["security_group"]["revision_number"] == 1
    assert [g["name"] for g in api.get(SGS, params={"name": "web2"}).json()["security_groups"]] == ["web2"]
    assert api.get(f"{SGS}/web2").status_code == 404  # name lookups go through ?name= (clients do)
    unstateful = _sg(api, "raw", stateful=False)
    assert unstateful["stateful"] is False
    assert [g["name"] for g in api.get(SGS, params={"stateful": "false"}).json()["security_groups"]] == ["raw"]
    assert api.get(SGS, params={"shared": "true"}).json()["security_groups"] == []
    assert api.delete(f"{SGS}/{sg['id']}").status_code == 204
    assert _err(api.get(f"{SGS}/{sg['id']}")) == (404, "SecurityGroupNotFound")
    assert all(r["security_group_id"] != sg["id"] for r in api.get(RULES).json()["security_group_rules"])


def test_default_name_rules(api):
    for name in ("default", "Default", "DEFAULT"):
        assert _err(api.post(SGS, {"security_group": {"name": name}})) == (409, "SecurityGroupDefaultAlreadyExists")
    sg = _sg(api)
    assert _err(api.put(f"{SGS}/{sg['id']}", {"security_group": {"name": "default"}})) == (
        409, "SecurityGroupDefaultAlreadyExists",
    )
    default = _default(api)
    assert _err(api.put(f"{SGS}/{default['id']}", {"security_group": {"name": "x"}})) == (
        409, "SecurityGroupCannotUpdateDefault",
    )
    r = api.put(f"{SGS}/{default['id']}", {"security_group": {"description": "ours"}})
    assert r.status_code == 200 and r.json()["security_group"]["description"] == "ours"


def test_delete_rules_default_and_in_use(api):
    member = api.as_project("pd")
    default = _default(member)
    assert _err(member.delete(f"{SGS}/{default['id']}")) == (409, "SecurityGroupCannotRemoveDefault")
    sg = _sg(member)
    net = member.network()
    member.subnet(net["id"])
    port = member.port(net["id"], security_groups=[sg["id"]])
    assert _err(member.delete(f"{SGS}/{sg['id']}")) == (409, "SecurityGroupInUse")
    r = member.put(f"{SGS}/{sg['id']}", {"security_group": {"stateful": False}})
    assert _err(r) == (409, "SecurityGroupInUse")
    assert member.delete(f"/v2.0/ports/{port['id']}").status_code == 204
    assert member.delete(f"{SGS}/{sg['id']}").status_code == 204
    # an admin may delete a project's default group; the next list makes a new one
    assert api.delete(f"{SGS}/{default['id']}").status_code == 204
    assert _default(member)["id"] != default["id"]


def test_projects_are_isolated(api):
    a, b = api.as_project("pa"), api.as_project("pb")
    sg = _sg(a, "mine")
    assert _err(b.get(f"{SGS}/{sg['id']}")) == (404, "SecurityGroupNotFound")
    assert "mine" not in {g["name"] for g in b.get(SGS).json()["security_groups"]}
    assert _err(_rule(b, sg["id"], protocol="tcp")) == (404, "SecurityGroupNotFound")
    assert _err(b.delete(f"{SGS}/{sg['id']}")) == (404, "SecurityGroupNotFound")
    assert _err(b.put(f"{SGS}/{sg['id']}", {"security_group": {"name": "x"}})) == (404, "SecurityGroupNotFound")
    own = _sg(b, "theirs")
    assert _err(_rule(b, own["id"], remote_group_id=sg["id"])) == (404, "SecurityGroupNotFound")
    rule_id = sg["security_group_rules"][0]["id"]
    assert _err(b.get(f"{RULES}/{rule_id}")) == (404, "SecurityGroupRuleNotFound")
    assert _err(b.delete(f"{RULES}/{rule_id}")) == (404, "SecurityGroupRuleNotFound")
    assert all(r["security_group_id"] != sg["id"] for r in b.get(RULES).json()["security_group_rules"])
    assert sg["id"] in {g["id"] for g in api.get(SGS).json()["security_groups"]}  # the admin sees all
    reader = api.as_project("pa", roles="reader")
    assert sg["id"] in {g["id"] for g in reader.get(SGS).json()["security_groups"]}
    assert reader.post(SGS, {"security_group": {"name": "r"}}).status_code == 403
    assert _rule(reader, sg["id"], protocol="tcp").status_code == 403
    assert reader.delete(f"{SGS}/{sg['id']}").status_code == 403
    assert b.post(SGS, {"security_group": {"name": "x", "project_id": "pa"}}).status_code == 400


def test_rule_create_show_list_delete(api):
    sg = _sg(api)
    r = _rule(api, sg["id"], protocol="TCP", port_range_min=22, port_range_max=22, remote_ip_prefix="10.0.0.5/24",
              ethertype="ipv4", description="ssh")
    assert r.status_code == 201, r.text
    rule = r.json()["security_group_rule"]
    assert {k: rule[k] for k in ("protocol", "ethertype", "port_range_min", "port_range_max", "description")} == {
        "protocol": "tcp", "ethertype": "IPv4", "port_range_min": 22, "port_range_max": 22, "description": "ssh"
    }
    assert rule["remote_ip_prefix"] == "10.0.0.5/24" and rule["normalized_cidr"] == "10.0.0.0/24"
    assert rule["remote_group_id"] is None and rule["revision_number"] == 0 and rule["project_id"] == "p-admin"
    assert api.get(f"{RULES}/{rule['id']}").json()["security_group_rule"] == rule
    shown = api.get(f"{SGS}/{sg['id']}").json()["security_group"]
    assert rule["id"] in {x["id"] for x in shown["security_group_rules"]}
    assert shown["revision_number"] == 1  # a rule is a change of its group
    listed = api.get(RULES, params={"security_group_id": sg["id"], "direction": "ingress"}).json()
    assert [x["id"] for x in listed["security_group_rules"]] == [rule["id"]]
    assert api.get(RULES, params={"security_group_id": sg["id"], "protocol": "tcp"}).json()["security_group_rules"]
    assert len(api.get(RULES, params={"security_group_id": sg["id"], "protocol": "any"}).json()["security_group_rules"]) == 2
    self_ref = _rule(api, sg["id"], remote_group_id=sg["id"], protocol="icmp")
    assert self_ref.status_code == 201 and self_ref.json()["security_group_rule"]["remote_group_id"] == sg["id"]
    assert api.delete(f"{RULES}/{rule['id']}").status_code == 204
    assert _err(api.get(f"{RULES}/{rule['id']}")) == (404, "SecurityGroupRuleNotFound")
    assert _err(api.delete(f"{RULES}/{rule['id']}")) == (404, "SecurityGroupRuleNotFound")
    assert api.get(f"{SGS}/{sg['id']}").json()["security_group"]["revision_number"] == 3
    # rules have no update in Neutron
    r = api.put(f"{RULES}/{self_ref.json()['security_group_rule']['id']}", {"security_group_rule": {}})
    assert r.status_code == 405


def test_duplicate_rules(api):
    sg = _sg(api)
    first = _rule(api, sg["id"], protocol="tcp", port_range_min=22, port_range_max=22, remote_ip_prefix="0.0.0.0/0")
    assert first.status_code == 201
    for same in (
        {"protocol": "tcp", "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0"},
        {"protocol": "tcp", "port_range_min": 22, "port_range_max": 22},  # no prefix = any address
        {"protocol": "6", "port_range_min": "22", "port_range_max": "22", "ethertype": "IPV4"},
    ):
        r = _rule(api, sg["id"], **same)
        assert _err(r) == (409, "SecurityGroupRuleExists")
        assert first.json()["security_group_rule"]["id"] in r.json()["NeutronError"]["message"]
    assert _rule(api, sg["id"], protocol="tcp", port_range_min=22, port_range_max=23).status_code == 201
    assert _rule(api, sg["id"], protocol="tcp", port_range_min=22, port_range_max=22, ethertype="IPv6").status_code == 201
    # the egress rules a new group starts with are taken too
    assert _err(api.post(RULES, {"security_group_rule": {"security_group_id": sg["id"], "direction": "egress"}})) == (
        409, "SecurityGroupRuleExists",
    )
    full = _rule(api, sg["id"], protocol="udp", port_range_min=1, port_range_max=65535)
    assert full.status_code == 201
    assert full.json()["security_group_rule"]["port_range_min"] is None
    assert _err(_rule(api, sg["id"], protocol="udp")) == (409, "SecurityGroupRuleExists")


@pytest.mark.parametrize(
    ("attrs", "status", "type_"),
    [
        ({"remote_ip_prefix": "::/0"}, 400, "SecurityGroupRuleParameterConflict"),
        ({"ethertype": "IPv6", "remote_ip_prefix": "10.0.0.0/8"}, 400, "SecurityGroupRuleParameterConflict"),
        ({"protocol": "icmp", "port_range_max": 0}, 400, "SecurityGroupMissingIcmpType"),
        ({"protocol": "icmp", "port_range_min": 256}, 400, "SecurityGroupInvalidIcmpValue"),
        ({"protocol": "tcp", "port_range_min": 0, "port_range_max": 22}, 400, "SecurityGroupInvalidPortValue"),
        ({"protocol": "tcp", "port_range_min": 30, "port_range_max": 22}, 400, "SecurityGroupInvalidPortRange"),
        ({"protocol": "tcp", "port_range_min": 22}, 400, "SecurityGroupInvalidPortRange"),
        ({"protocol": "tcp", "port_range_min": 1, "port_range_max": 70000}, 400, "SecurityGroupInvalidPortValue"),
        ({"port_range_min": 22, "port_range_max": 22}, 400, "SecurityGroupProtocolRequiredWithPorts"),
        ({"protocol": "gre", "port_range_min": 1, "port_range_max": 2}, 400, "SecurityGroupInvalidProtocolForPort"),
        ({"protocol": "bogus"}, 400, "SecurityGroupRuleInvalidProtocol"),
        ({"protocol": "300"}, 400, "SecurityGroupRuleInvalidProtocol"),
        ({"protocol": "ipv6-icmp"}, 400, "SecurityGroupEthertypeConflictWithProtocol"),
        ({"ethertype": "IPv5"}, 400, "SecurityGroupRuleInvalidEtherType"),
        ({"remote_ip_prefix": "10.0.0.0/40"}, 400, "InvalidCIDR"),
        ({"remote_ip_prefix": "10.0.0.0/8", "remote_group_id": "SELF"}, 400, "SecurityGroupMultipleRemoteEntites"),
        ({"remote_group_id": "4a2a8d2c-3bc5-4a31-a5a6-9d0c8e8a4f00"}, 404, "SecurityGroupNotFound"),
        ({"direction": "sideways"}, 400, "HTTPBadRequest"),
        ({"bogus": 1}, 400, "HTTPBadRequest"),
    ],
)
def test_rule_errors(api, attrs, status, type_):
    sg = _sg(api)
    if attrs.get("remote_group_id") == "SELF":
        attrs = {**attrs, "remote_group_id": sg["id"]}
    before = api.get(f"{SGS}/{sg['id']}").json()["security_group"]
    assert _err(_rule(api, sg["id"], **attrs)) == (status, type_)
    after = api.get(f"{SGS}/{sg['id']}").json()["security_group"]
    assert after["security_group_rules"] == before["security_group_rules"]
    assert after["revision_number"] == before["revision_number"]


def test_rule_needs_an_existing_group(api):
    r = api.post(RULES, {"security_group_rule": {"security_group_id": "nope", "direction": "ingress"}})
    assert _err(r) == (404, "SecurityGroupNotFound")
    r = api.post(RULES, {"security_group_rule": {"direction": "ingress"}})
    assert _err(r) == (400, "HTTPBadRequest")


def test_ipv6_icmp_legacy_names_are_stored_canonically(api):
    sg = _sg(api)
    r = _rule(api, sg["id"], ethertype="IPv6", protocol="icmpv6", port_range_min=128)
    assert r.status_code == 201 and r.json()["security_group_rule"]["protocol"] == "ipv6-icmp"
    assert _err(_rule(api, sg["id"], ethertype="IPv6", protocol="58", port_range_min=128)) == (
        409, "SecurityGroupRuleExists",
    )


def test_quotas(api):
    member = api.as_project("pq")
    assert api.put("/v2.0/quotas/pq", {"quota": {"security_group": 2, "security_group_rule": 7}}).status_code == 200
    _default(member)  # the default group and its 4 rules count as used
    sg = _sg(member, "one")  # 2 more rules: 6 of 7
    assert _err(member.post(SGS, {"security_group": {"name": "two"}})) == (409, "OverQuota")
    assert _rule(member, sg["id"], protocol="tcp", port_range_min=80, port_range_max=80).status_code == 201
    r = _rule(member, sg["id"], protocol="tcp", port_range_min=81, port_range_max=81)
    assert _err(r) == (409, "OverQuota") and "security_group_rule" in r.json()["NeutronError"]["message"]
    details = api.get("/v2.0/quotas/pq/details").json()["quota"]
    assert details["security_group"]["used"] == 2 and details["security_group_rule"]["used"] == 7
    # a project at its limit still gets its default group: creating a network never fails for it
    assert api.put("/v2.0/quotas/pz", {"quota": {"security_group": 0, "security_group_rule": 0}}).status_code == 200
    zero = api.as_project("pz")
    zero.network()
    assert _default(zero)["name"] == "default"


def test_tags_and_bulk(api):
    sg = _sg(api)
    assert api.put(f"{SGS}/{sg['id']}/tags", {"tags": ["red", "blue"]}).status_code == 200
    assert api.get(f"{SGS}/{sg['id']}").json()["security_group"]["tags"] == ["blue", "red"]
    assert [g["id"] for g in api.get(SGS, params={"tags": "red"}).json()["security_groups"]] == [sg["id"]]
    r = api.post(RULES, {"security_group_rules": [
        {"security_group_id": sg["id"], "direction": "ingress", "protocol": "tcp", "port_range_min": 80, "port_range_max": 80},
        {"security_group_id": sg["id"], "direction": "ingress", "protocol": "tcp", "port_range_min": 443, "port_range_max": 443},
    ]})
    assert r.status_code == 201 and len(r.json()["security_group_rules"]) == 2
    r = api.post(RULES, {"security_group_rules": [
        {"security_group_id": sg["id"], "direction": "ingress", "protocol": "udp", "port_range_min": 53, "port_range_max": 53},
        {"security_group_id": sg["id"], "direction": "ingress", "protocol": "udp", "port_range_min": 53, "port_range_max": 53},
    ]})
    assert _err(r) == (409, "SecurityGroupRuleExists")  # atomic: the first one is not kept either
    assert not api.get(RULES, params={"security_group_id": sg["id"], "protocol": "udp"}).json()["security_group_rules"]


def test_extensions_are_listed(api):
    aliases = {e["alias"] for e in api.get("/v2.0/extensions").json()["extensions"]}
    assert {"security-group", "port-security", "allowed-address-pairs", "extra_dhcp_opt",
            "stateful-security-group", "security-groups-normalized-cidr"} <= aliases
    names = {r["collection"]: r["links"][0]["href"] for r in api.get("/v2.0/").json()["resources"]}
    assert names["security_groups"].endswith("/v2.0/security-groups")
