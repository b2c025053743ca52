"""The unmodified ``openstack`` CLI against a real neutrino server, password auth via clouds.yaml.

Each CLI call is a new process that authenticates again (about a second each), so the flows
are grouped into a few tests. Names carry a ``cli-`` prefix because the server is shared with
the SDK tests and the admin sees every project's resources.
"""

from __future__ import annotations

import ipaddress
import json
import shlex
import subprocess

import httpx
import pytest

from tests.clients.conftest import HTTP_TIMEOUT, OPENSTACK, clean_env

pytestmark = pytest.mark.clients


def _names(rows: list[dict]) -> set[str]:  # type: ignore[type-arg]
    return {r["Name"] for r in rows}


def _limit(rows: list[dict], resource: str) -> int | None:  # type: ignore[type-arg]
    """The ``Limit`` of one row of ``openstack quota show`` (resource names as OSC prints them)."""
    found = {r["Resource"]: r["Limit"] for r in rows}
    return found[resource]


def test_network_lifecycle_and_tags(server):
    osc = server.osc
    net = osc("network", "create", "--description", "first", "--tag", "red", "cli-net1")
    assert net["name"] == "cli-net1" and net["description"] == "first"
    assert net["admin_state_up"] is True and net["status"] == "ACTIVE"
    assert net["tags"] == ["red"] and net["subnets"] == [] and net["mtu"] == 1500
    other = osc("network", "create", "cli-net2")

    listed = osc("network", "list")
    assert {"cli-net1", "cli-net2"} <= _names(listed)
    assert {"ID", "Name", "Subnets"} <= set(listed[0])
    assert _names(osc("network", "list", "--tags", "red")) == {"cli-net1"}
    long_rows = {r["Name"]: r for r in osc("network", "list", "--long")}
    assert long_rows["cli-net1"]["State"] is True and long_rows["cli-net1"]["Tags"] == ["red"]

    shown = osc("network", "show", "cli-net1")  # by name: GET /networks/cli-net1 (404), ?name=
    assert shown["id"] == net["id"] and shown["tags"] == ["red"]

    osc("network", "set", "--name", "cli-net1b", "--description", "second", "--disable",
        "--tag", "blue", net["id"])  # fmt: skip
    shown = osc("network", "show", net["id"])
    assert shown["name"] == "cli-net1b" and shown["description"] == "second"
    assert shown["admin_state_up"] is False
    assert sorted(shown["tags"]) == ["blue", "red"]
    assert shown["revision_number"] > net["revision_number"]

    osc("network", "unset", "--tag", "red", "cli-net1b")
    assert osc("network", "show", "cli-net1b")["tags"] == ["blue"]
    assert _names(osc("network", "list", "--tags", "blue")) == {"cli-net1b"}
    assert "cli-net1b" not in _names(osc("network", "list", "--tags", "red"))
    osc("network", "set", "--enable", "--no-tag", "cli-net1b")
    shown = osc("network", "show", "cli-net1b")
    assert shown["tags"] == [] and shown["admin_state_up"] is True

    osc("network", "delete", "cli-net1b", other["id"])
    err = server.osc_fail("network", "show", net["id"])
    assert f"No Network found for {net['id']}" in err
    assert not {"cli-net1b", "cli-net2"} & _names(osc("network", "list"))


def test_subnets_ports_and_conflicts(server):
    osc = server.osc
    net = osc("network", "create", "cli-pnet")
    sub4 = osc("subnet", "create", "--network", "cli-pnet", "--subnet-range", "10.0.0.0/24", "cli-sub4")
    assert sub4["cidr"] == "10.0.0.0/24" and sub4["ip_version"] == 4
    assert sub4["gateway_ip"] == "10.0.0.1" and sub4["enable_dhcp"] is True
    assert sub4["allocation_pools"] == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    assert sub4["network_id"] == net["id"]

    sub6 = osc("subnet", "create", "--network", "cli-pnet", "--ip-version", "6",
               "--ipv6-ra-mode", "slaac", "--ipv6-address-mode", "slaac",
               "--subnet-range", "2001:db8::/64", "cli-sub6")  # fmt: skip
    assert sub6["ip_version"] == 6 and sub6["cidr"] == "2001:db8::/64"
    assert sub6["ipv6_ra_mode"] == "slaac" and sub6["ipv6_address_mode"] == "slaac"
    assert sub6["gateway_ip"] == "2001:db8::1"
    assert sub6["allocation_pools"] == [{"start": "2001:db8::2", "end": "2001:db8::ffff:ffff:ffff:ffff"}]

    custom = osc("subnet", "create", "--network", "cli-pnet", "--subnet-range", "10.1.0.0/24",
                 "--allocation-pool", "start=10.1.0.10,end=10.1.0.20",
                 "--allocation-pool", "start=10.1.0.100,end=10.1.0.110",
                 "--dns-nameserver", "192.0.2.53", "--dns-nameserver", "192.0.2.54",
                 "--host-route", "destination=192.168.0.0/24,gateway=10.1.0.1",
                 "--gateway", "none", "cli-sub-custom")  # fmt: skip
    assert custom["gateway_ip"] is None
    assert custom["allocation_pools"] == [
        {"start": "10.1.0.10", "end": "10.1.0.20"},
        {"start": "10.1.0.100", "end": "10.1.0.110"},
    ]
    assert custom["dns_nameservers"] == ["192.0.2.53", "192.0.2.54"]
    assert custom["host_routes"] == [{"destination": "192.168.0.0/24", "nexthop": "10.1.0.1"}]
    assert sorted(osc("network", "show", "cli-pnet")["subnets"]) == sorted(
        [sub4["id"], sub6["id"], custom["id"]]
    )

    # a port without fixed IPs gets one address from one IPv4 subnet (as Neutron: the first
    # with room) plus its SLAAC (EUI-64) address on every automatic-address IPv6 subnet
    p1 = osc("port", "create", "--network", "cli-pnet", "cli-p1")
    assert p1["status"] in ("DOWN", "ACTIVE") and p1["mac_address"]
    by_subnet = {f["subnet_id"]: f["ip_address"] for f in p1["fixed_ips"]}
    assert sub6["id"] in by_subnet
    v6 = ipaddress.IPv6Address(by_subnet[sub6["id"]])
    mac = bytes.fromhex(p1["mac_address"].replace(":", ""))
    eui64 = bytes([mac[0] ^ 0x02]) + mac[1:3] + b"\xff\xfe" + mac[3:]
    assert v6 == ipaddress.IPv6Address(b"\x20\x01\x0d\xb8" + b"\x00" * 4 + eui64)
    v4 = [ip for sid, ip in by_subnet.items() if sid != sub6["id"]]
    assert len(v4) == 1
    assert ipaddress.IPv4Address(v4[0]) in ipaddress.IPv4Network("10.0.0.0/24") or (
        ipaddress.IPv4Address(v4[0]) in ipaddress.IPv4Network("10.1.0.0/24")
    )
    # p1's address is random among the free ones (Neutron's policy), so it may be any of
    # these: the fixed addresses below are three that p1 does not hold
    first, second, third = [ip for ip in ("10.0.0.50", "10.0.0.60", "10.0.0.61", "10.0.0.70") if ip not in v4][:3]

    p2 = osc("port", "create", "--network", "cli-pnet",
             "--fixed-ip", f"subnet={sub4['id']},ip-address={first}", "cli-p2")  # fmt: skip
    assert p2["fixed_ips"] == [{"subnet_id": sub4["id"], "ip_address": first}]

    # duplicate fixed IP: exit code 1 and Neutron's message on stderr
    err = server.osc_fail("port", "create", "--network", "cli-pnet",
                          "--fixed-ip", f"subnet=cli-sub4,ip-address={first}", "cli-p3")  # fmt: skip
    assert f"IP address {first} already allocated in subnet {sub4['id']}" in err, err
    assert "409" in err

    ports = osc("port", "list", "--network", "cli-pnet")  # repeated fields= in the query
    assert _names(ports) == {"cli-p1", "cli-p2"}
    assert {"ID", "Name", "MAC Address", "Fixed IP Addresses", "Status"} <= set(ports[0])
    row = next(p for p in ports if p["Name"] == "cli-p2")
    assert row["MAC Address"] == p2["mac_address"]
    assert row["Fixed IP Addresses"] == [{"subnet_id": sub4["id"], "ip_address": first}]

    long_rows = {r["Name"]: r for r in osc("port", "list", "--long", "--network", "cli-pnet")}
    assert long_rows["cli-p2"]["ID"] == p2["id"]
    assert {r["Name"] for r in osc("subnet", "list", "--network", "cli-pnet")} == {
        "cli-sub4", "cli-sub6", "cli-sub-custom"
    }  # fmt: skip
    shown = osc("port", "show", "cli-p2")
    assert shown["id"] == p2["id"] and shown["network_id"] == net["id"]

    osc("port", "set", "--fixed-ip", f"subnet={sub4['id']},ip-address={second}", "cli-p2")
    ips = sorted(f["ip_address"] for f in osc("port", "show", p2["id"])["fixed_ips"])
    assert ips == [first, second]
    osc("port", "set", "--no-fixed-ip", "--fixed-ip", f"subnet=cli-sub4,ip-address={third}", "cli-p2")
    assert osc("port", "show", p2["id"])["fixed_ips"] == [{"subnet_id": sub4["id"], "ip_address": third}]

    # the first address is free again
    p3 = osc("port", "create", "--network", "cli-pnet",
             "--fixed-ip", f"subnet=cli-sub4,ip-address={first}", "cli-p3")  # fmt: skip
    assert p3["fixed_ips"][0]["ip_address"] == first

    # deleting a network with ports is a 409 with Neutron's message
    err = server.osc_fail("network", "delete", "cli-pnet")
    assert (
        f"Unable to complete operation on network {net['id']}. "
        "There are one or more ports still in use on the network." in err
    ), err

    osc("port", "delete", "cli-p1", p2["id"], "cli-p3")
    assert osc("port", "list", "--network", "cli-pnet") == []
    osc("network", "delete", "cli-pnet")  # its subnets go with it
    assert not {"cli-sub4", "cli-sub6", "cli-sub-custom"} & _names(osc("subnet", "list"))


def test_projects_users_isolation_and_quotas(server):
    osc = server.osc
    admin_net = osc("network", "create", "cli-admin-net")
    proj = osc("project", "create", "--description", "project B", "projB")
    assert proj["name"] == "projB" and proj["enabled"] is True
    user = osc("user", "create", "--project", "projB", "--password", "pw-b", "userB")
    assert user["name"] == "userB" and user["default_project_id"] == proj["id"]
    osc("role", "add", "--project", "projB", "--user", "userB", "member")
    server.add_cloud("userB", username="userB", password="pw-b", project="projB")

    # userB sees nothing of the admin project
    assert osc("network", "list", cloud="userB") == []
    err = server.osc_fail("network", "show", admin_net["id"], cloud="userB")
    assert f"No Network found for {admin_net['id']}" in err, err

    bnet = osc("network", "create", "cli-b-net", cloud="userB")
    assert bnet["project_id"] == proj["id"]
    assert _names(osc("network", "list", cloud="userB")) == {"cli-b-net"}
    # the admin sees both projects' networks, and can filter by project
    seen = {r["ID"] for r in osc("network", "list")}
    assert {admin_net["id"], bnet["id"]} <= seen
    assert [r["ID"] for r in osc("network", "list", "--project", "projB")] == [bnet["id"]]
    # a member may not change quotas
    err = server.osc_fail("quota", "set", "--networks", "1000", "projB", cloud="userB")
    assert "403" in err, err

    # quotas of projB, through the network-only catalog (no compute, no volume)
    assert _limit(osc("quota", "show", "--network", "projB"), "networks") == 100
    all_limits = osc("quota", "show", "projB")  # without --network, too
    assert _limit(all_limits, "networks") == 100 and _limit(all_limits, "ports") == 500
    osc("quota", "set", "--networks", "1", "--ports", "7", "projB")
    limits = osc("quota", "show", "--network", "projB")
    assert _limit(limits, "networks") == 1 and _limit(limits, "ports") == 7
    err = server.osc_fail("network", "create", "cli-b-net2", cloud="userB")
    assert "Quota exceeded for resources: ['network']" in err, err
    # the admin project is untouched
    assert _limit(osc("quota", "show", "--network", "admin"), "networks") == 100

    # cleanup: networks then identity objects
    osc("network", "delete", bnet["id"], admin_net["id"])
    osc("user", "delete", "userB")
    osc("project", "delete", "projB")


def test_clouds_yaml_in_cwd_and_openrc(server):
    # openstack reads ./clouds.yaml from its working directory
    net = server.osc("network", "create", "cli-env-net")
    rows = server.osc("network", "list", cloud=None, env={"OS_CLOUD": "neutrino"}, cwd=server.state_dir)
    assert net["id"] in {r["ID"] for r in rows}

    # source openrc (it unsets OS_CLOUD and exports the OS_* variables)
    openrc = server.state_dir / "openrc"
    script = f"source {shlex.quote(str(openrc))} && {shlex.quote(OPENSTACK)} network list -f json"
    proc = subprocess.run(
        ["bash", "-c", script],
        cwd=server.work_dir,
        env=clean_env(OS_CLOUD="neutrino"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert net["id"] in {r["ID"] for r in json.loads(proc.stdout)}
    server.osc("network", "delete", net["id"])


def test_responses_do_not_name_the_server_software(server):
    resp = httpx.get(f"{server.url}/", timeout=HTTP_TIMEOUT)
    assert resp.status_code == 200 and "server" not in resp.headers
