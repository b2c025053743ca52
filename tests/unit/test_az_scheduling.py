"""Availability zones in the pure scheduling choice and in the zone list."""

from __future__ import annotations

from datetime import datetime

import pytest

from neutrino.domain.scheduling import choice
from neutrino.domain.scheduling.choice import AgentView
from neutrino.domain.services.availability_zones import parse_hints, zone_states

pytestmark = pytest.mark.unit

NOW = datetime(2026, 1, 1)


def _dhcp(agent_id: str, zone: str) -> AgentView:
    return AgentView(agent_id, f"h-{agent_id}", choice.DHCP_AGENT, True, NOW, {}, zone)


def test_dhcp_agents_in_hinted_zones_spread_over_zones():
    agents = [_dhcp("a", "az1"), _dhcp("b", "az1"), _dhcp("c", "az2"), _dhcp("d", "az3")]
    pick = choice.choose_dhcp_agents(agents, [], {}, per_network=2, now=NOW, down_time=75, hints=("az1", "az2"))
    assert pick == ["a", "c"]
    # no hints: any zone, still one per zone first
    assert choice.choose_dhcp_agents(agents, [], {}, per_network=3, now=NOW, down_time=75) == ["a", "c", "d"]
    # the zone of an agent already hosting counts as covered
    assert choice.choose_dhcp_agents(agents, ["a"], {}, per_network=2, now=NOW, down_time=75) == ["c"]


def test_l3_agent_in_hinted_zone():
    agents = [AgentView(i, f"h-{i}", choice.L3_AGENT, True, NOW, {}, z) for i, z in (("a", "az1"), ("b", "az2"))]
    assert choice.choose_l3_agent(agents, {"b": 5}, router_id="r", gateway_network_id=None, now=NOW,
                                  down_time=75, hints=("az2",)) == "b"
    assert choice.choose_l3_agent(agents, {}, router_id="r", gateway_network_id=None, now=NOW,
                                  down_time=75, hints=("az9",)) is None


def test_zone_states_as_neutron():
    rows = [("az1", choice.DHCP_AGENT, False), ("az1", choice.DHCP_AGENT, True), ("az2", choice.L3_AGENT, False),
            (None, choice.OVS_AGENT, True), ("az3", choice.OVS_AGENT, True)]
    assert zone_states(rows) == {("az1", "network"): "available", ("az2", "router"): "unavailable"}


def test_hint_parsing():
    assert parse_hints(["a", "b", "a"]) == ["a", "b"]
    with pytest.raises(Exception):
        parse_hints(["x" * 200, "y" * 100])
    with pytest.raises(Exception):
        parse_hints("az1")
