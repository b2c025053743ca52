"""The agent registry through the API: heartbeats register agents, /v2.0/agents lists, shows,
updates and deletes them, liveness follows agent_down_time, members see nothing, and L2
heartbeats record tunnel endpoints."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from neutrino import errors
from neutrino.domain.models import TunnelEndpoint
from neutrino.domain.services import agents
from tests.api.agent_support import agent_id, ago, cfg_of, report, run

pytestmark = pytest.mark.api

FIELDS = {
    "id", "agent_type", "binary", "topic", "host", "admin_state_up", "created_at", "started_at",
    "heartbeat_timestamp", "alive", "configurations", "resource_versions", "availability_zone",
    "resources_synced", "description", "ha_chassis_priority",
}  # fmt: skip


def _error(r, status: int, type_: str) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.json()["NeutronError"]["type"] == type_, r.text


def test_heartbeats_register_refresh_and_revive(api):
    assert report(api, "h1", now=ago(300), bridge_mappings={"physnet1": "br-p1"}) == "new"
    assert report(api, "h1", now=ago(280)) == "alive"
    assert report(api, "h1") == "revived"  # silent for more than agent_down_time in between
    assert report(api, "h1", start=True) == "alive"
    [a] = api.get("/v2.0/agents").json()["agents"]
    assert set(a) == FIELDS
    assert a["agent_type"] == "Open vSwitch agent" and a["binary"] == "neutron-openvswitch-agent"
    assert a["topic"] == "N/A" and a["host"] == "h1" and a["alive"] is True and a["admin_state_up"] is True
    assert a["configurations"]["bridge_mappings"] == {} and a["configurations"]["integration_bridge"] == "br-int"
    assert a["created_at"] < a["started_at"] <= a["heartbeat_timestamp"]  # started_at moved with --start
    assert len(a["heartbeat_timestamp"]) == 19 and a["heartbeat_timestamp"][10] == " "  # Neutron's agent times
    assert report(api, "h1", kind="dhcp") == "new"  # another type on the same host is another agent
    assert len(api.get("/v2.0/agents").json()["agents"]) == 2


def test_new_agents_may_start_disabled(api):
    report(api, "h1", cfg=cfg_of(api, enable_new_agents=False))
    [a] = api.get("/v2.0/agents").json()["agents"]
    assert a["admin_state_up"] is False


def test_alive_flips_after_agent_down_time(api):
    report(api, "fresh", now=ago(74))
    report(api, "stale", now=ago(77))
    rows = {a["host"]: a["alive"] for a in api.get("/v2.0/agents").json()["agents"]}
    assert rows == {"fresh": True, "stale": False}
    assert [a["host"] for a in api.get("/v2.0/agents?alive=False").json()["agents"]] == ["stale"]
    assert [a["host"] for a in api.get("/v2.0/agents?alive=true").json()["agents"]] == ["fresh"]
    assert len(api.get("/v2.0/agents?alive=true&alive=false").json()["agents"]) == 2
    cfg = cfg_of(api)
    live = run(api, lambda s: agents.live_agents(s, cfg, host="stale", agent_type="Open vSwitch agent"))
    assert live == []
    live = run(api, lambda s: agents.live_agents(s, cfg, host="fresh", agent_type="Open vSwitch agent"))
    assert [a.host for a in live] == ["fresh"] and agents.is_alive(live[0], cfg)
    assert not agents.is_alive(live[0], cfg, now=ago(-2))  # the same agent seen 76 s later


def test_list_filters_fields_sorting_and_paging(api):
    for host in ("h1", "h2"):
        report(api, host)
    report(api, "h1", kind="dhcp")
    report(api, "h3", kind="l3")
    get = lambda q: api.get("/v2.0/agents" + q).json()["agents"]  # noqa: E731
    assert {a["host"] for a in get("?agent_type=Open vSwitch agent")} == {"h1", "h2"}
    assert {a["agent_type"] for a in get("?host=h1")} == {"Open vSwitch agent", "DHCP agent"}
    assert [a["binary"] for a in get("?topic=l3_agent")] == ["neutron-l3-agent"]
    assert {a["host"] for a in get("?availability_zone=nova")} == {"h1", "h3"}
    assert get("?fields=id&fields=host&host=h2") == [{"id": agent_id(api, "h2"), "host": "h2"}]
    assert [a["host"] for a in get("?sort_key=host&sort_dir=desc&agent_type=Open vSwitch agent")] == ["h2", "h1"]
    page = api.get("/v2.0/agents?limit=3").json()
    assert len(page["agents"]) == 3 and page["agents_links"][0]["rel"] == "next"
    r = api.get("/v2.0/agents?configurations=x")
    _error(r, 400, "HTTPBadRequest")


def test_agent_type_filter_ignores_case(api):
    """tempest asks for ``agent_type=DHCP Agent``; agents report ``DHCP agent``. The filter
    matches case-insensitively on every backend, as Neutron's on MySQL; host stays exact."""
    report(api, "h1", kind="dhcp")
    report(api, "h1")
    get = lambda q: api.get("/v2.0/agents" + q).json()["agents"]  # noqa: E731
    assert [a["agent_type"] for a in get("?agent_type=DHCP Agent")] == ["DHCP agent"]
    both = get("?agent_type=dhcp AGENT&agent_type=open vswitch agent")
    assert sorted(a["agent_type"] for a in both) == ["DHCP agent", "Open vSwitch agent"]
    assert get("?agent_type=DHCP") == [] and get("?host=H1") == []


def test_show_update_delete(api):
    report(api, "h1", tunnel_types=["vxlan"], tunneling_ip="10.0.0.1")
    aid = agent_id(api, "h1")
    shown = api.get(f"/v2.0/agents/{aid}").json()["agent"]
    assert shown["id"] == aid and shown["configurations"]["tunneling_ip"] == "10.0.0.1"
    assert api.get(f"/v2.0/agents/{aid}?fields=alive").json() == {"agent": {"alive": True}}

    r = api.put(f"/v2.0/agents/{aid}", {"agent": {"admin_state_up": False, "description": "maintenance"}})
    assert r.status_code == 200, r.text
    assert r.json()["agent"]["admin_state_up"] is False and r.json()["agent"]["description"] == "maintenance"
    assert report(api, "h1") == "alive"  # a heartbeat keeps what the admin set
    assert api.get(f"/v2.0/agents/{aid}").json()["agent"]["admin_state_up"] is False
    for bad in ({"host": "h2"}, {"alive": False}, {"configurations": {}}):
        _error(api.put(f"/v2.0/agents/{aid}", {"agent": bad}), 400, "HTTPBadRequest")
    _error(api.put(f"/v2.0/agents/{aid}", {"agent": {"admin_state_up": "maybe"}}), 400, "InvalidInput")
    _error(api.post("/v2.0/agents", {"agent": {"host": "h9"}}), 405, "HTTPMethodNotAllowed")

    assert api.delete(f"/v2.0/agents/{aid}").status_code == 204
    _error(api.get(f"/v2.0/agents/{aid}"), 404, "AgentNotFound")
    _error(api.delete(f"/v2.0/agents/{aid}"), 404, "AgentNotFound")
    _error(api.put(f"/v2.0/agents/{aid}", {"agent": {"description": "x"}}), 404, "AgentNotFound")
    assert run(api, lambda s: s.scalars(select(TunnelEndpoint)).all()) == []  # the host's last L2 agent went
    assert report(api, "h1") == "new"  # a live agent comes back with its next report


def test_members_and_readers_see_no_agents(api):
    report(api, "h1")
    report(api, "h1", kind="dhcp")
    aid = agent_id(api, "h1")
    net = api.network()
    for who in (api.as_project("p1"), api.as_project("p1", roles="reader")):
        assert who.get("/v2.0/agents").json() == {"agents": []}
        for r in (
            who.get(f"/v2.0/agents/{aid}"),
            who.put(f"/v2.0/agents/{aid}", {"agent": {"description": "x"}}),
            who.delete(f"/v2.0/agents/{aid}"),
        ):
            _error(r, 404, "HTTPNotFound")
            assert r.json()["NeutronError"]["message"] == "The resource could not be found."
        for r in (
            who.get(f"/v2.0/agents/{aid}/dhcp-networks"),
            who.post(f"/v2.0/agents/{aid}/dhcp-networks", {"network_id": net["id"]}),
            who.get(f"/v2.0/networks/{net['id']}/dhcp-agents"),
            who.get(f"/v2.0/agents/{aid}/l3-routers"),
        ):
            _error(r, 403, "PolicyNotAuthorized")
    assert api.get(f"/v2.0/agents/{aid}").json()["agent"]["description"] == ""


def test_heartbeats_record_tunnel_endpoints(api):
    def endpoints():  # type: ignore[no-untyped-def]
        rows = run(api, lambda s: s.scalars(select(TunnelEndpoint)).all())
        return sorted((e.tunnel_type, e.ip_address, e.host, e.udp_port) for e in rows)

    report(api, "h1", tunnel_types=["vxlan", "geneve", "stt"], tunneling_ip="10.0.0.1")
    report(api, "h2", kind="linuxbridge", tunnel_types=["vxlan"], tunneling_ip="10.0.0.2")
    report(api, "h3", bridge_mappings={"physnet1": "br-p1"})  # no tunnels: no endpoint
    assert endpoints() == [
        ("geneve", "10.0.0.1", "h1", 6081),
        ("vxlan", "10.0.0.1", "h1", 4789),
        ("vxlan", "10.0.0.2", "h2", 4789),
    ]
    report(api, "h1", tunnel_types=["vxlan"], tunneling_ip="10.0.0.11")  # h1 changed address
    report(api, "h3", tunnel_types=["vxlan"], tunneling_ip="10.0.0.2")  # the address moved to h3
    assert endpoints() == [
        ("geneve", "10.0.0.1", "h1", 6081),
        ("vxlan", "10.0.0.11", "h1", 4789),
        ("vxlan", "10.0.0.2", "h3", 4789),
    ]
    with pytest.raises(errors.InvalidInput, match="not an IP address"):
        report(api, "h4", tunnel_types=["vxlan"], tunneling_ip="not-an-ip")
    with pytest.raises(errors.AgentNotFound):  # nothing half-written: no agent either
        agent_id(api, "h4")
