"""DHCP and L3 scheduling: networks and routers placed on the least loaded live agents, the
dhcp_agent_scheduler / l3_agent_scheduler APIs, and failover off agents dead too long."""

from __future__ import annotations

import pytest

from neutrino.domain import scheduling
from neutrino.domain.scheduling.dhcp import RESERVED_DHCP_PORT, dhcp_device_id
from tests.api.agent_support import agent_id, ago, cfg_of, report, run

pytestmark = pytest.mark.api


def _error(r, status: int, type_: str) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.json()["NeutronError"]["type"] == type_, r.text


def dhcp_hosts(api, network_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    r = api.get(f"/v2.0/networks/{network_id}/dhcp-agents")
    assert r.status_code == 200, r.text
    return sorted(a["host"] for a in r.json()["agents"])


def l3_hosts(api, router_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    r = api.get(f"/v2.0/routers/{router_id}/l3-agents")
    assert r.status_code == 200, r.text
    return sorted(a["host"] for a in r.json()["agents"])


def dhcp_network(api, name: str = "n", enable_dhcp: bool = True, cidr: str = "10.0.0.0/24") -> dict:  # type: ignore[no-untyped-def,type-arg]
    net = api.network(name=name)
    api.subnet(net["id"], cidr, enable_dhcp=enable_dhcp)
    return net


def schedule(api, network_id: str, **cfg) -> list[str]:  # type: ignore[no-untyped-def]
    conf = cfg_of(api, **cfg)
    return run(api, lambda s: scheduling.schedule_network(s, conf, network_id))


# --- DHCP -------------------------------------------------------------------------------------


def test_dhcp_agent_report_schedules_networks_that_need_dhcp(api):
    with_dhcp = dhcp_network(api, "with")
    without = dhcp_network(api, "without", enable_dhcp=False)
    empty = api.network(name="empty")
    assert dhcp_hosts(api, with_dhcp["id"]) == []  # no agent yet
    report(api, "net1", kind="dhcp")
    assert dhcp_hosts(api, with_dhcp["id"]) == ["net1"]
    assert dhcp_hosts(api, without["id"]) == [] and dhcp_hosts(api, empty["id"]) == []
    nets = api.get(f"/v2.0/agents/{agent_id(api, 'net1', 'dhcp')}/dhcp-networks").json()["networks"]
    assert [n["id"] for n in nets] == [with_dhcp["id"]]
    assert nets[0]["name"] == "with" and nets[0]["subnets"] and "mtu" in nets[0]  # rendered as networks are
    later = dhcp_network(api, "later", cidr="10.1.0.0/24")
    report(api, "net1", kind="dhcp")  # the next report picks up what is new
    assert dhcp_hosts(api, later["id"]) == ["net1"]
    # an L2 agent's report schedules nothing, and the option turns the sweep off
    quiet = dhcp_network(api, "quiet", cidr="10.2.0.0/24")
    report(api, "net1")
    report(api, "net1", kind="dhcp", cfg=cfg_of(api, network_auto_schedule=False))
    if dhcp_hosts(api, quiet["id"]) == []:  # (unless subnet creation schedules by itself)
        assert schedule(api, quiet["id"]) == [agent_id(api, "net1", "dhcp")]
    assert dhcp_hosts(api, quiet["id"]) == ["net1"]


def test_networks_spread_over_the_least_loaded_live_agents(api):
    report(api, "net-a", kind="dhcp")
    report(api, "net-b", kind="dhcp")
    report(api, "net-dead", kind="dhcp", now=ago(100))
    report(api, "net-off", kind="dhcp")
    off = agent_id(api, "net-off", "dhcp")
    assert api.put(f"/v2.0/agents/{off}", {"agent": {"admin_state_up": False}}).status_code == 200
    nets = [dhcp_network(api, f"n{i}", cidr=f"10.{i}.0.0/24") for i in range(4)]
    for net in nets:
        schedule(api, net["id"])
    placed = [dhcp_hosts(api, n["id"]) for n in nets]
    assert sorted(h for hosts in placed for h in hosts) == ["net-a", "net-a", "net-b", "net-b"]
    assert schedule(api, nets[0]["id"]) == []  # hosted already: nothing added
    # two agents per network: each gets the other one too
    assert len(schedule(api, nets[0]["id"], dhcp_agents_per_network=2)) == 1
    assert dhcp_hosts(api, nets[0]["id"]) == ["net-a", "net-b"]
    assert schedule(api, nets[0]["id"], dhcp_agents_per_network=3) == []  # no third usable agent


def test_manual_dhcp_scheduling(api):
    report(api, "m1", kind="dhcp")
    report(api, "m2", kind="dhcp")
    report(api, "m1")
    a1, a2, ovs = agent_id(api, "m1", "dhcp"), agent_id(api, "m2", "dhcp"), agent_id(api, "m1")
    net = dhcp_network(api)
    hosts = dhcp_hosts(api, net["id"])
    if not hosts:
        schedule(api, net["id"])
        hosts = dhcp_hosts(api, net["id"])
    assert hosts == ["m1"]
    port = api.port(net["id"], device_owner="network:dhcp", device_id=dhcp_device_id(net["id"], "m1.example.org"))

    r = api.post(f"/v2.0/agents/{a2}/dhcp-networks", {"network_id": net["id"]})
    assert r.status_code == 201 and r.json() is None
    assert dhcp_hosts(api, net["id"]) == ["m1", "m2"]
    _error(api.post(f"/v2.0/agents/{a2}/dhcp-networks", {"network_id": net["id"]}), 409, "NetworkHostedByDHCPAgent")
    _error(api.post(f"/v2.0/agents/{ovs}/dhcp-networks", {"network_id": net["id"]}), 404, "InvalidDHCPAgent")
    _error(api.post(f"/v2.0/agents/{a2}/dhcp-networks", {"network_id": "nope"}), 404, "NetworkNotFound")
    _error(api.post("/v2.0/agents/nope/dhcp-networks", {"network_id": net["id"]}), 404, "AgentNotFound")
    _error(api.post(f"/v2.0/agents/{a2}/dhcp-networks", {"net": 1}), 400, "HTTPBadRequest")
    _error(api.get("/v2.0/agents/nope/dhcp-networks"), 404, "AgentNotFound")
    _error(api.get("/v2.0/networks/nope/dhcp-agents"), 404, "NetworkNotFound")

    assert api.delete(f"/v2.0/agents/{a1}/dhcp-networks/{net['id']}").status_code == 204
    assert dhcp_hosts(api, net["id"]) == ["m2"]
    shown = api.get(f"/v2.0/ports/{port['id']}").json()["port"]
    assert shown["device_id"] == RESERVED_DHCP_PORT and shown["revision_number"] > port["revision_number"]
    _error(api.delete(f"/v2.0/agents/{a1}/dhcp-networks/{net['id']}"), 409, "NetworkNotHostedByDhcpAgent")
    assert api.put(f"/v2.0/agents/{a1}", {"agent": {"admin_state_up": False}}).status_code == 200
    _error(api.post(f"/v2.0/agents/{a1}/dhcp-networks", {"network_id": net["id"]}), 404, "InvalidDHCPAgent")
    assert api.delete(f"/v2.0/agents/{a2}").status_code == 204  # bindings go with the agent
    assert dhcp_hosts(api, net["id"]) == []


def test_dhcp_failover_moves_networks_off_agents_dead_too_long(api):
    report(api, "f1", kind="dhcp")
    net = dhcp_network(api)
    if not dhcp_hosts(api, net["id"]):
        schedule(api, net["id"])
    report(api, "f2", kind="dhcp")
    a1 = agent_id(api, "f1", "dhcp")
    cfg = cfg_of(api)
    later = ago(-160)  # f1's last report is then 160 s old: dead for more than agent_down_time
    assert run(api, lambda s: scheduling.reschedule_dead_agents(s, cfg, ago(-100))) == []  # dead, not long
    assert dhcp_hosts(api, net["id"]) == ["f1"]
    off = cfg_of(api, allow_automatic_dhcp_failover=False)
    assert run(api, lambda s: scheduling.reschedule_dead_agents(s, off, later)) == []
    # no live DHCP agent at all (f2 is as silent as f1): nothing moves
    assert run(api, lambda s: scheduling.reschedule_dead_agents(s, cfg, later)) == []
    report(api, "f2", kind="dhcp", now=later)
    moved = run(api, lambda s: scheduling.reschedule_dead_agents(s, cfg, later))
    assert [(m.kind, m.resource_id, m.from_agent, m.to_agent) for m in moved] == [
        ("network", net["id"], a1, agent_id(api, "f2", "dhcp"))
    ]
    assert dhcp_hosts(api, net["id"]) == ["f2"]


def test_disabled_dead_dhcp_agent_keeps_its_networks(api):
    report(api, "d1", kind="dhcp")
    net = dhcp_network(api)
    if not dhcp_hosts(api, net["id"]):
        schedule(api, net["id"])
    api.put(f"/v2.0/agents/{agent_id(api, 'd1', 'dhcp')}", {"agent": {"admin_state_up": False}})
    later = ago(-200)
    report(api, "d2", kind="dhcp", now=later)
    assert run(api, lambda s: scheduling.reschedule_dead_agents(s, cfg_of(api), later)) == []
    assert dhcp_hosts(api, net["id"]) == ["d1"]


# --- L3 ---------------------------------------------------------------------------------------


def router(api, name: str = "r", **attrs) -> dict:  # type: ignore[no-untyped-def,type-arg]
    r = api.post("/v2.0/routers", {"router": {"name": name, **attrs}})
    assert r.status_code == 201, r.text
    return r.json()["router"]


def test_routers_go_to_the_least_loaded_suitable_agent(api):
    early = router(api, "early")  # no L3 agent yet: unhosted
    assert l3_hosts(api, early["id"]) == []
    report(api, "l3-a", kind="l3")
    assert l3_hosts(api, early["id"]) == ["l3-a"]  # the agent's report picked it up
    report(api, "l3-b", kind="l3")
    report(api, "l3-dvr", kind="l3", agent_mode="dvr")
    report(api, "l3-dead", kind="l3", now=ago(90))
    routers = [router(api, f"r{i}") for i in range(3)]
    placed = sorted(h for r in routers for h in l3_hosts(api, r["id"]))
    assert placed == ["l3-a", "l3-b", "l3-b"]
    b = agent_id(api, "l3-b", "l3")
    listed = api.get(f"/v2.0/agents/{b}/l3-routers").json()["routers"]
    assert sorted(r["name"] for r in listed) == sorted(r["name"] for r in routers if l3_hosts(api, r["id"]) == ["l3-b"])
    assert set(listed[0]) >= {"id", "name", "external_gateway_info", "routes", "status"}
    cfg = cfg_of(api)
    assert run(api, lambda s: scheduling.schedule_router(s, cfg, routers[0]["id"])) in (
        agent_id(api, "l3-a", "l3"), b
    )  # already hosted: the host is reported, nothing changes
    off = cfg_of(api, router_auto_schedule=False)
    r_off = router(api, "manual")
    [placed_on] = l3_hosts(api, r_off["id"])
    assert api.delete(f"/v2.0/agents/{agent_id(api, placed_on, 'l3')}/l3-routers/{r_off['id']}").status_code == 204
    assert run(api, lambda s: scheduling.schedule_router(s, off, r_off["id"])) is None
    assert run(api, lambda s: scheduling.schedule_router(s, cfg, "no-such-router")) is None


def test_internal_only_and_gateway_pinned_agents(api):
    report(api, "gw-only", kind="l3", handle_internal_only_routers=False)
    internal = router(api, "internal")
    assert l3_hosts(api, internal["id"]) == []  # this agent takes only routers with a gateway
    ext = api.network(name="ext", **{"router:external": True})
    api.subnet(ext["id"], "172.24.4.0/24")
    r = api.put(f"/v2.0/routers/{internal['id']}", {"router": {"external_gateway_info": {"network_id": ext["id"]}}})
    assert r.status_code == 200, r.text
    assert l3_hosts(api, internal["id"]) == ["gw-only"]  # scheduled when the gateway was set


def test_manual_l3_scheduling(api):
    report(api, "m-a", kind="l3")
    report(api, "m-b", kind="l3")
    report(api, "m-dhcp", kind="dhcp")
    a, b, dhcp_agent = agent_id(api, "m-a", "l3"), agent_id(api, "m-b", "l3"), agent_id(api, "m-dhcp", "dhcp")
    r = router(api)
    [host] = l3_hosts(api, r["id"])
    hosting, other = (a, b) if host == "m-a" else (b, a)
    assert api.post(f"/v2.0/agents/{hosting}/l3-routers", {"router_id": r["id"]}).status_code == 201  # no-op
    _error(api.post(f"/v2.0/agents/{other}/l3-routers", {"router_id": r["id"]}), 409, "RouterHostedByL3Agent")
    _error(api.post(f"/v2.0/agents/{dhcp_agent}/l3-routers", {"router_id": r["id"]}), 404, "InvalidL3Agent")
    _error(api.post(f"/v2.0/agents/{other}/l3-routers", {"router_id": "nope"}), 404, "RouterNotFound")
    _error(api.post(f"/v2.0/agents/{other}/l3-routers", {}), 400, "HTTPBadRequest")
    _error(api.delete(f"/v2.0/agents/{other}/l3-routers/{r['id']}"), 409, "RouterNotHostedByL3Agent")
    _error(api.get("/v2.0/routers/nope/l3-agents"), 404, "RouterNotFound")
    _error(api.get("/v2.0/agents/nope/l3-routers"), 404, "AgentNotFound")

    assert api.delete(f"/v2.0/agents/{hosting}/l3-routers/{r['id']}").status_code == 204
    assert l3_hosts(api, r["id"]) == []
    resp = api.post(f"/v2.0/agents/{other}/l3-routers", {"router_id": r["id"]})
    assert resp.status_code == 201 and resp.json() is None
    assert l3_hosts(api, r["id"]) == [("m-b" if other == b else "m-a")]
    api.put(f"/v2.0/agents/{hosting}", {"agent": {"admin_state_up": False}})
    api.delete(f"/v2.0/agents/{other}/l3-routers/{r['id']}")
    _error(api.post(f"/v2.0/agents/{hosting}/l3-routers", {"router_id": r["id"]}), 404, "InvalidL3Agent")


def test_l3_failover_when_enabled(api):
    report(api, "lf-a", kind="l3")
    r = router(api)
    assert l3_hosts(api, r["id"]) == ["lf-a"]
    later = ago(-200)
    on = cfg_of(api, allow_automatic_l3agent_failover=True)
    assert run(api, lambda s: scheduling.reschedule_dead_agents(s, on, later)) == []  # nowhere to go
    assert l3_hosts(api, r["id"]) == ["lf-a"]
    report(api, "lf-b", kind="l3", now=later)
    assert run(api, lambda s: scheduling.reschedule_dead_agents(s, cfg_of(api), later)) == []  # off by default
    moved = run(api, lambda s: scheduling.reschedule_dead_agents(s, on, later))
    assert [(m.kind, m.resource_id, m.to_agent) for m in moved] == [("router", r["id"], agent_id(api, "lf-b", "l3"))]
    assert l3_hosts(api, r["id"]) == ["lf-b"]


def test_status_check_runs_in_the_server_and_moves_work(api, tmp_path):
    import threading
    from datetime import timedelta

    from fastapi.testclient import TestClient

    from neutrino.domain.models.base import utcnow
    from neutrino.domain.scheduling.periodic import AgentStatusCheck
    from neutrino.server import build
    from tests.api.agent_support import state_of
    from tests.conftest import make_settings

    def checks() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "agent-status-check"}

    before = checks()  # (the api fixture's server runs one too)
    built = build(make_settings(tmp_path / "own"), write_files=False)
    with TestClient(built.app):
        [ours] = checks() - before
    assert not ours.is_alive()  # stopped and joined at shutdown
    built.state.close()

    report(api, "p1", kind="dhcp")
    net = dhcp_network(api)
    if not dhcp_hosts(api, net["id"]):
        schedule(api, net["id"])
    start = utcnow()
    check = AgentStatusCheck(state_of(api).sessions, cfg_of(api), clock=lambda: start)
    report(api, "p2", kind="dhcp", now=start + timedelta(seconds=200))
    assert check.run_once(start + timedelta(seconds=100)) == []  # the server itself just started
    [moved] = check.run_once(start + timedelta(seconds=200))
    assert moved.resource_id == net["id"] and dhcp_hosts(api, net["id"]) == ["p2"]


def test_no_live_dhcp_agent_is_said_once_per_change(api, caplog):
    """A server left without agents says so when the set of dead agents changes, not at every
    periodic run (every agent_down_time / 2)."""
    from neutrino.domain.scheduling import failover

    failover._WARNED_NO_LIVE_DHCP["dead"] = frozenset()
    report(api, "w1", kind="dhcp")
    net = dhcp_network(api)
    if not dhcp_hosts(api, net["id"]):
        schedule(api, net["id"])
    cfg = cfg_of(api)
    later = ago(-160)
    caplog.set_level("WARNING", logger=failover.__name__)
    for _ in range(3):
        run(api, lambda s: scheduling.reschedule_dead_agents(s, cfg, later))
    said = [r for r in caplog.records if "no live DHCP agent" in r.getMessage()]
    assert len(said) == 1
    report(api, "w2", kind="dhcp", now=ago(-10))  # another agent, dead too by `much_later`
    much_later = ago(-400)
    run(api, lambda s: scheduling.reschedule_dead_agents(s, cfg, much_later))
    run(api, lambda s: scheduling.reschedule_dead_agents(s, cfg, much_later))
    assert len([r for r in caplog.records if "no live DHCP agent" in r.getMessage()]) == 2
