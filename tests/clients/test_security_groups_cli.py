"""Security groups, rules and port security with the unmodified ``openstack`` CLI and
openstacksdk against the real server (shared with the other client tests: names carry a
``cli-sg``/``sdk-sg`` prefix). CLI calls cost about a second each, so flows are grouped."""

from __future__ import annotations

import os
import uuid

import openstack
import pytest
from openstack import exceptions as sdk_exc

from tests.clients.conftest import RUN_CONFIG_KEYS

pytestmark = pytest.mark.clients


def test_security_group_and_port_security_flow(server):
    osc = server.osc
    sg = osc("security", "group", "create", "cli-sg1")
    assert sg["name"] == "cli-sg1" and sg["description"] == "cli-sg1" and sg["stateful"] is True
    assert {(r["direction"], r["ethertype"]) for r in sg["rules"]} == {("egress", "IPv4"), ("egress", "IPv6")}

    rule = osc("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22", "--ingress", "cli-sg1")
    assert rule["protocol"] == "tcp" and rule["port_range_max"] == 22 and rule["port_range_min"] == 22
    assert rule["remote_ip_prefix"] == "0.0.0.0/0" and rule["security_group_id"] == sg["id"]
    err = server.osc_fail("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22",
                          "--ingress", "cli-sg1")  # fmt: skip
    assert "Security group rule already exists" in err
    err = server.osc_fail("security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22",
                          "--ingress", "--remote-ip", "::/0", "cli-sg1")  # fmt: skip
    assert "Conflicting value ethertype IPv4 for CIDR ::/0" in err

    rows = osc("security", "group", "rule", "list", "cli-sg1")
    assert len(rows) == 3 and rule["id"] in {r["ID"] for r in rows}
    assert {r["Port Range"] for r in rows if r["ID"] == rule["id"]} == {"22:22"}
    names = {r["Name"] for r in osc("security", "group", "list")}
    assert {"cli-sg1", "default"} <= names

    osc("network", "create", "cli-sgnet")
    osc("subnet", "create", "--network", "cli-sgnet", "--subnet-range", "10.40.0.0/24", "cli-sgsub")
    port = osc("port", "create", "--network", "cli-sgnet", "--security-group", "cli-sg1",
               "--allowed-address", "ip-address=10.40.0.50",
               "--extra-dhcp-option", "name=bootfile-name,value=pxelinux.0", "cli-sgport")  # fmt: skip
    assert port["security_group_ids"] == [sg["id"]] and port["port_security_enabled"] is True
    assert port["allowed_address_pairs"] == [{"ip_address": "10.40.0.50", "mac_address": port["mac_address"]}]
    assert port["extra_dhcp_opts"] == [{"opt_name": "bootfile-name", "opt_value": "pxelinux.0", "ip_version": 4}]
    err = server.osc_fail("security", "group", "delete", "cli-sg1")
    assert "in use" in err

    err = server.osc_fail("port", "set", "--disable-port-security", "cli-sgport")
    assert "Port Security must be enabled in order to have allowed address pairs" in err
    osc("port", "set", "--no-security-group", "--no-allowed-address", "--disable-port-security", "cli-sgport")
    shown = osc("port", "show", "cli-sgport")
    assert shown["port_security_enabled"] is False and shown["security_group_ids"] == []
    assert shown["allowed_address_pairs"] == [] and len(shown["extra_dhcp_opts"]) == 1

    osc("security", "group", "rule", "delete", rule["id"])
    assert len(osc("security", "group", "rule", "list", "cli-sg1")) == 2
    osc("security", "group", "delete", "cli-sg1")
    assert "cli-sg1" not in {r["Name"] for r in osc("security", "group", "list")}
    osc("port", "delete", "cli-sgport")
    osc("network", "delete", "cli-sgnet")


@pytest.fixture
def conn(server, monkeypatch):
    for key in list(os.environ):
        if key.startswith("OS_") and key not in RUN_CONFIG_KEYS:
            monkeypatch.delenv(key)
    c = openstack.connect(
        auth_url=server.auth_url,
        username="admin",
        password=server.admin_password,
        project_name="admin",
        user_domain_name="Default",
        project_domain_name="Default",
        region_name="RegionOne",
    )
    yield c
    c.close()


def test_sdk_security_groups(conn):
    name = f"sdk-sg-{uuid.uuid4().hex[:8]}"
    sg = conn.network.create_security_group(name=name)
    try:
        assert sg.name == name and sg.description == "" and len(sg.security_group_rules) == 2
        rule = conn.network.create_security_group_rule(
            security_group_id=sg.id, direction="ingress", protocol="tcp", ethertype="IPv4",
            port_range_min=80, port_range_max=80,
        )  # fmt: skip
        assert rule.remote_ip_prefix is None and rule.port_range_min == 80
        with pytest.raises(sdk_exc.ConflictException):  # 0.0.0.0/0 is the same as no prefix
            conn.network.create_security_group_rule(
                security_group_id=sg.id, direction="ingress", protocol="tcp", ethertype="IPv4",
                port_range_min=80, port_range_max=80, remote_ip_prefix="0.0.0.0/0",
            )  # fmt: skip
        with pytest.raises(sdk_exc.BadRequestException):
            conn.network.create_security_group_rule(
                security_group_id=sg.id, direction="ingress", protocol="icmp", port_range_max=0
            )
        groups = {g.name: g for g in conn.network.security_groups()}
        assert name in groups and "default" in groups
        assert groups["default"].description == "Default security group"
        assert len(groups["default"].security_group_rules) == 4
        assert conn.network.find_security_group(name).id == sg.id
        rules = list(conn.network.security_group_rules(security_group_id=sg.id))
        assert rule.id in {r.id for r in rules} and len(rules) == 3
        conn.network.delete_security_group_rule(rule)
        assert len(list(conn.network.security_group_rules(security_group_id=sg.id))) == 2
    finally:
        conn.network.delete_security_group(sg, ignore_missing=True)
    assert conn.network.find_security_group(name) is None
