"""Availability zones: listed from the agents' reports, hints validated, schedulers honour them."""

from __future__ import annotations

import pytest

from neutrino.agent.kinds import AGENT_KINDS
from neutrino.domain.services import agents

from tests.api.agent_support import run, state_of

pytestmark = pytest.mark.api


def _agent(api, host, kind, zone):  # type: ignore[no-untyped-def]
    agent_type, binary, topic, _ = AGENT_KINDS[kind]
    run(api, lambda s: agents.report_state(
        s, state_of(api).domain, agent_type=agent_type, binary=binary, topic=topic, host=host,
        configurations={}, start_flag=True, availability_zone=zone,
    ))


def test_zones_listed_from_agents(api):
    assert api.get("/v2.0/availability_zones").json() == {"availability_zones": []}
    _agent(api, "n1", "dhcp", "az1")
    _agent(api, "n2", "l3", "az2")
    _agent(api, "c1", "ovs", None)
    zones = api.get("/v2.0/availability_zones").json()["availability_zones"]
    assert zones == [
        {"name": "az1", "resource": "network", "state": "available"},
        {"name": "az2", "resource": "router", "state": "available"},
    ]
    member = api.as_project("p-other")
    assert member.get("/v2.0/availability_zones?resource=router").json()["availability_zones"] == [zones[1]]


def test_network_hints_validated_and_honoured(api):
    _agent(api, "n1", "dhcp", "az1")
    _agent(api, "n2", "dhcp", "az2")
    r = api.post("/v2.0/networks", {"network": {"availability_zone_hints": ["nowhere"]}})
    assert r.status_code == 404 and r.json()["NeutronError"]["type"] == "AvailabilityZoneNotFound"
    r = api.post("/v2.0/networks", {"network": {"availability_zone_hints": ["az2"]}})
    net = r.json()["network"]
    assert net["availability_zone_hints"] == ["az2"] and net["availability_zones"] == []
    api.subnet(net["id"])
    shown = api.get(f"/v2.0/networks/{net['id']}").json()["network"]
    assert shown["availability_zones"] == ["az2"]
    hosts = [a["host"] for a in api.get(f"/v2.0/networks/{net['id']}/dhcp-agents").json()["agents"]]
    assert hosts == ["n2"]
    r = api.put(f"/v2.0/networks/{net['id']}", {"network": {"availability_zone_hints": ["az1"]}})
    assert r.status_code == 400


def test_router_hints_validated_and_honoured(api):
    _agent(api, "n1", "l3", "az1")
    _agent(api, "n2", "l3", "az2")
    r = api.post("/v2.0/routers", {"router": {"availability_zone_hints": ["az3"]}})
    assert r.status_code == 404
    router = api.post("/v2.0/routers", {"router": {"availability_zone_hints": ["az1"]}}).json()["router"]
    assert router["availability_zone_hints"] == ["az1"] and router["availability_zones"] == ["az1"]
    hosts = [a["host"] for a in api.get(f"/v2.0/routers/{router['id']}/l3-agents").json()["agents"]]
    assert hosts == ["n1"]
