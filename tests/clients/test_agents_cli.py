"""Agents with the real clients: ``neutrino agent heartbeat`` writes into the test server's
store, then the unmodified ``openstack network agent ...`` commands and openstacksdk see,
change, schedule onto and delete those agents. Hosts carry ``cli-``/``sdk-`` prefixes because
the server is shared with other tests (which may register agents of their own)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import openstack
import pytest
from openstack import exceptions as sdk_exc

from tests.clients.conftest import RUN_CONFIG_KEYS, clean_env

pytestmark = pytest.mark.clients


def heartbeat(server, host: str, kind: str, *extra: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """``neutrino agent heartbeat ... --json`` against the server's state directory."""
    cmd = [
        sys.executable, "-m", "neutrino.cli.main", "agent", "heartbeat",
        "--state-dir", str(server.state_dir), "--host", host, "--type", kind, "--json", *extra,
    ]  # fmt: skip
    done = subprocess.run(cmd, env=clean_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_openstack_network_agent_commands(server):
    osc = server.osc
    host = f"cli-agent-{uuid.uuid4().hex[:6]}"
    l2 = ("--bridge-mappings", "physnet1:br-physnet1", "--tunnel-types", "vxlan", "--tunneling-ip", "10.9.0.2")
    ovs = heartbeat(server, host, "ovs", *l2)
    assert ovs["result"] == "new" and ovs["agent"]["configurations"]["tunneling_ip"] == "10.9.0.2"
    assert heartbeat(server, host, "ovs", *l2)["result"] == "alive"  # each report carries the whole state
    dhcp = heartbeat(server, host, "dhcp")["agent"]

    rows = osc("network", "agent", "list", "--host", host)
    assert sorted(r["Agent Type"] for r in rows) == ["DHCP agent", "Open vSwitch agent"]
    assert all(r["Alive"] is True and r["State"] is True for r in rows)
    assert dhcp["id"] in {r["ID"] for r in osc("network", "agent", "list", "--agent-type", "dhcp")}

    shown = osc("network", "agent", "show", ovs["agent"]["id"])
    assert shown["host"] == host and shown["agent_type"] == "Open vSwitch agent"
    assert shown["configuration"]["bridge_mappings"] == {"physnet1": "br-physnet1"}
    osc("network", "agent", "set", "--disable", "--description", "maintenance", ovs["agent"]["id"])
    shown = osc("network", "agent", "show", ovs["agent"]["id"])
    assert shown["admin_state_up"] is False and shown["description"] == "maintenance"

    # a network with DHCP gets a DHCP agent; admins move it between agents by hand
    net = osc("network", "create", f"{host}-net")
    osc("subnet", "create", "--network", net["id"], "--subnet-range", "10.77.0.0/24", f"{host}-sub")
    heartbeat(server, host, "dhcp")  # the DHCP agent's report schedules networks still without one
    [hosting] = osc("network", "agent", "list", "--network", net["id"])
    if hosting["ID"] != dhcp["id"]:  # another test's DHCP agent was less loaded: take it over
        osc("network", "agent", "remove", "network", "--dhcp", hosting["ID"], net["id"])
        osc("network", "agent", "add", "network", "--dhcp", dhcp["id"], net["id"])
    [hosting] = osc("network", "agent", "list", "--network", net["id"])
    assert hosting["ID"] == dhcp["id"] and hosting["Host"] == host
    osc("network", "agent", "remove", "network", "--dhcp", dhcp["id"], net["id"])
    assert osc("network", "agent", "list", "--network", net["id"]) == []
    osc("network", "agent", "add", "network", "--dhcp", dhcp["id"], net["id"])
    assert [r["ID"] for r in osc("network", "agent", "list", "--network", net["id"])] == [dhcp["id"]]

    osc("network", "agent", "delete", ovs["agent"]["id"], dhcp["id"])
    assert osc("network", "agent", "list", "--host", host) == []
    assert osc("network", "agent", "list", "--network", net["id"]) == []  # bindings went with it
    err = server.osc_fail("network", "agent", "show", dhcp["id"])
    assert "could not be found" in err
    osc("network", "delete", net["id"])


@pytest.fixture
def conn(server, monkeypatch):  # type: ignore[no-untyped-def]
    for key in list(os.environ):
        if key.startswith("OS_") and key not in RUN_CONFIG_KEYS:
            monkeypatch.delenv(key)
    c = openstack.connect(
        auth_url=server.auth_url, username="admin", password=server.admin_password, project_name="admin",
        user_domain_name="Default", project_domain_name="Default", region_name="RegionOne",
    )  # fmt: skip
    yield c
    c.close()


def test_sdk_agents_and_l3_scheduling(server, conn):
    host = f"sdk-agent-{uuid.uuid4().hex[:6]}"
    l3 = heartbeat(server, host, "l3")["agent"]
    found = list(conn.network.agents(host=host))
    assert [a.id for a in found] == [l3["id"]]
    agent = conn.network.get_agent(l3["id"])
    assert agent.agent_type == "L3 agent" and agent.is_alive and agent.is_admin_state_up
    assert agent.binary == "neutron-l3-agent" and agent.configuration["agent_mode"] == "legacy"
    assert [a.id for a in conn.network.agents(agent_type="L3 agent", is_alive=True, host=host)] == [l3["id"]]
    assert conn.network.update_agent(agent, description="sdk").description == "sdk"

    router = conn.network.create_router(name=f"{host}-r")
    try:
        [hosting] = list(conn.network.routers_hosting_l3_agents(router))
        if hosting.id != l3["id"]:
            conn.network.remove_router_from_agent(hosting, router)
            conn.network.add_router_to_agent(l3["id"], router)
        assert [a.id for a in conn.network.routers_hosting_l3_agents(router)] == [l3["id"]]
        assert router.id in {r.id for r in conn.network.agent_hosted_routers(l3["id"])}
    finally:
        conn.network.delete_router(router)
    conn.network.delete_agent(l3["id"], ignore_missing=False)
    with pytest.raises(sdk_exc.NotFoundException):
        conn.network.get_agent(l3["id"])
    assert list(conn.network.agents(host=host)) == []
