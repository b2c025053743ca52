"""The demo's lab-shaped checks (lab/demo_ha.py) decided from API answers, without root: which
hosts take the instances, the HA router's agents, each network's DHCP agents, the metadata
answer."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from neutrino.lab import demo, demo_ha, resolve, topology

pytestmark = pytest.mark.unit
HA = Path(__file__).parents[2] / "examples" / "ha.yaml"


def test_hosts_come_from_the_lab_roles(tmp_path: Path) -> None:
    seed = resolve.resolve(topology.default_lab(), name="ab", root=tmp_path)
    ha = resolve.resolve(topology.load(HA), name="ab", root=tmp_path)
    assert demo_ha.hosts_with(seed, "network") == ["network"] and demo.compute_hosts(seed) == ("compute1", "compute2")
    assert demo_ha.hosts_with(ha, "network") == ["network1", "network2"]
    assert demo.compute_hosts(ha) == ("compute1", "compute2")
    assert (demo_ha.expected_dhcp_agents(seed), demo_ha.expected_dhcp_agents(ha)) == (1, 2)
    one = resolve.resolve(topology.parse({"hosts": {"c1": {"roles": ["compute", "network"]}}}), name="ab", root=tmp_path)
    with pytest.raises(demo.DemoError, match="needs two"):
        demo.compute_hosts(one)


def test_lab_file_keeps_its_mechanism_unless_one_is_given() -> None:
    ha = topology.load(HA)
    assert demo.lab_file(None, ha) is ha and demo.lab_file().name == "seed"
    assert demo.lab_file("linuxbridge", ha).defaults.mechanism == "linuxbridge"


def test_ha_router_needs_one_active_and_a_standby() -> None:
    router = {"name": "router1", "ha": True}
    both = [{"host": "network1", "ha_state": "active"}, {"host": "network2", "ha_state": "standby"}]
    check = demo_ha.ha_router_check(router, both)
    assert check.ok and check.detail == "ha=True; network1 active, network2 standby"
    assert not demo_ha.ha_router_check(router, [dict(a, ha_state="standby") for a in both]).ok  # no election yet
    assert not demo_ha.ha_router_check(router, both[:1]).ok
    assert not demo_ha.ha_router_check({"name": "router1", "ha": False}, both).ok


def test_each_network_needs_its_dhcp_agents_on_distinct_hosts() -> None:
    net = {"name": "vxlan-net"}
    two = [{"host": "network1", "alive": True}, {"host": "network2", "alive": True}]
    assert demo_ha.dhcp_agents_check(net, two, 2).ok
    assert not demo_ha.dhcp_agents_check(net, two[:1], 2).ok
    assert not demo_ha.dhcp_agents_check(net, [two[0], dict(two[1], alive=False)], 2).ok
    assert demo_ha.dhcp_agents_check(net, [], 1).detail == "no DHCP agent"


def test_metadata_answer_must_name_the_instance() -> None:
    def answer(code: int, out: str) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess([], code, out, "wget: server returned error: HTTP/1.1 404" if code else "")

    good = json.dumps({"uuid": "u-4", "name": "vm4", "hostname": "vm4"})
    assert demo_ha.metadata_check("vm4", "u-4", answer(0, good)).ok
    assert not demo_ha.metadata_check("vm4", "u-3", answer(0, good)).ok
    assert "404" in demo_ha.metadata_check("vm4", "u-4", answer(1, "")).detail
    assert not demo_ha.metadata_check("vm4", "u-4", answer(0, "<html>")).ok
