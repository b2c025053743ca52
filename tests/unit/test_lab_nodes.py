"""What each lab node runs (lab/nodes.py), decided without root: the server on the controller's
management address, one agent process per OVS host, their config files and places."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from neutrino.agent.config import load_agent_config
from neutrino.lab import nodes, topology
from neutrino.lab import resolve

pytestmark = pytest.mark.unit


def test_processes_of_the_seed_lab(tmp_path: Path) -> None:
    lab = resolve.resolve(topology.default_lab(), name="ab", root=tmp_path)
    specs = nodes.specs(lab)
    assert [(s.name, s.node) for s in specs] == [
        ("server", "controller"), ("agent-network", "network"), ("agent-compute1", "compute1"),
        ("agent-compute2", "compute2"),
    ]  # fmt: skip
    server = specs[0]
    assert server.netns == "ab-controller" and server.argv[:2] == ["nsenter", "--net=/run/netns/ab-controller"]
    assert server.argv[-3:] == ["server", "--config", str(tmp_path / "ab" / "server.toml")]
    assert server.log == tmp_path / "ab" / "server.log"
    assert nodes.find(lab, "network").log == tmp_path / "ab" / "network" / "agent.log"
    assert nodes.find(lab, "compute2").name == "agent-compute2"
    with pytest.raises(KeyError, match="no process 'nope'"):
        nodes.find(lab, "nope")
    assert nodes.api_url(lab) == f"http://{lab.controller.address}:9696"


def test_config_files_load_through_the_commands_code(tmp_path: Path) -> None:
    lab = resolve.resolve(topology.default_lab(), name="ab", root=tmp_path)
    nodes.write_configs(lab)
    server = tomllib.loads((tmp_path / "ab" / "server.toml").read_text())["server"]
    assert server["host"] == lab.controller.address and server["port"] == 9696
    assert server["network_vlan_ranges"] == ["physnet1:100:199"] and server["tenant_network_types"] == ["vxlan"]
    network = load_agent_config(tmp_path / "ab" / "network" / "agent.toml")
    assert network == nodes.agent_config(lab, lab.host("network"))
    assert network.roles == ("l2", "dhcp", "l3") and network.netns == "ab-network"
    assert network.bridge_mappings == {"physnet1": "br-physnet1", "extnet": "br-ex"}
    assert network.server_url == nodes.api_url(lab) and network.tunneling_ip == "172.31.0.1"
    compute = load_agent_config(tmp_path / "ab" / "compute1" / "agent.toml")
    assert compute.roles == ("l2",) and compute.prefix == "ab-compute1-" and compute.tunnel_types == ("vxlan",)


def test_a_lab_without_controller_role_serves_from_its_first_host(tmp_path: Path) -> None:
    lab = resolve.resolve(topology.parse({"hosts": {"c1": {"roles": ["compute"]}, "c2": {"roles": ["compute"]}}}),
                     name="ab", root=tmp_path)  # fmt: skip
    assert lab.controller.name == "c1"
    assert [(s.name, s.node) for s in nodes.specs(lab)] == [("server", "c1"), ("agent-c1", "c1"), ("agent-c2", "c2")]


def test_a_mixed_lab_runs_linuxbridge_agents_where_the_lab_file_says(tmp_path: Path) -> None:
    """Per-host ``mechanism:``: compute2 on Linux bridges (no OVS, interfaces as mappings, the
    tunnel address on the tunnel wire), the rest on OVS; the server loads both drivers."""
    base = topology.default_lab()
    hosts = dict(base.hosts)
    hosts["compute2"] = hosts["compute2"].model_copy(update={"mechanism": topology.Mechanism.linuxbridge})
    lab = resolve.resolve(base.model_copy(update={"hosts": hosts}), name="ab", root=tmp_path)
    c2 = lab.host("compute2")
    assert c2.linuxbridge and not c2.has_ovs and c2.has_dataplane and c2.tunnel_device == "eth2"
    assert c2.bridge_mappings == {"physnet1": "eth1"} and all(w.bridge is None for w in c2.wires)
    assert [s.node for s in nodes.specs(lab)] == ["controller", "network", "compute1", "compute2"]
    nodes.write_configs(lab)
    server = tomllib.loads((tmp_path / "ab" / "server.toml").read_text())["server"]
    assert server["mechanism_drivers"] == ["openvswitch", "linuxbridge"]
    agent = load_agent_config(tmp_path / "ab" / "compute2" / "agent.toml")
    assert agent.mechanism == "linuxbridge" and agent.physical_interface_mappings == {"physnet1": "eth1"}
    assert agent.bridge_mappings == {} and agent.ovs_dir is None and agent.tunneling_ip == "172.31.0.3"
    assert load_agent_config(tmp_path / "ab" / "compute1" / "agent.toml").mechanism == "openvswitch"


def test_unknown_mechanism_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    path.write_text('[agent]\nhost = "h"\nmechanism = "macvtap"\n')
    with pytest.raises(ValueError, match="mechanism must be one of openvswitch, linuxbridge"):
        load_agent_config(path)


def test_the_ha_lab_file_carries_server_and_agent_settings(tmp_path: Path) -> None:
    """examples/ha.yaml: l3_ha and two DHCP agents per network for the server, sub-second VRRP
    adverts for every agent, through the files the processes load."""
    lab = resolve.resolve(topology.load(Path(__file__).parents[2] / "examples" / "ha.yaml"), name="ab", root=tmp_path)
    assert [s.node for s in nodes.specs(lab)] == ["controller", "network1", "network2", "compute1", "compute2"]
    nodes.write_configs(lab)
    server = tomllib.loads((tmp_path / "ab" / "server.toml").read_text())["server"]
    assert server["l3_ha"] is True and server["dhcp_agents_per_network"] == 2 and server["max_l3_agents_per_router"] == 2
    network = load_agent_config(tmp_path / "ab" / "network2" / "agent.toml")
    assert network.ha_vrrp_advert_int == 0.5 and network.roles == ("l2", "dhcp", "l3")
    from neutrino.config import load_server_settings

    assert load_server_settings(tmp_path / "ab" / "server.toml").l3_ha is True


def test_the_server_takes_the_underlay_mtu_of_the_lab_file(tmp_path: Path) -> None:
    """``defaults.mtu`` is the MTU of every underlay link: the server's ``global_physnet_mtu``
    (1500 by default, Neutron's own default), so a jumbo lab gives VXLAN networks 8950."""
    from neutrino.config import load_server_settings

    seed = resolve.resolve(topology.default_lab(), name="ab", root=tmp_path)
    assert nodes.ml2_settings(seed)["global_physnet_mtu"] == 1500
    jumbo = resolve.resolve(topology.parse({"defaults": {"mtu": 9000}, "hosts": {"c1": {"roles": ["compute"]}},
                                            "server": {"physical_network_mtus": {"physnet1": 1500}}}),
                            name="cd", root=tmp_path)  # fmt: skip
    nodes.write_configs(jumbo)
    loaded = load_server_settings(tmp_path / "cd" / "server.toml")
    assert loaded.global_physnet_mtu == 9000 and loaded.physical_network_mtus == {"physnet1": 1500}


def test_a_host_own_agent_settings_override_the_lab_ones(tmp_path: Path) -> None:
    """Per-host ``agents:``: compute2 runs Neutron's noop firewall, the other hosts keep the
    lab's settings; a controller-only host, which runs no agent, takes none."""
    doc = {
        "agents": {"report_interval": 5, "firewall": True},
        "hosts": {"controller": {"roles": ["controller"]}, "compute1": {"roles": ["compute"]},
                  "compute2": {"roles": ["compute"], "agents": {"firewall": False}}},
    }  # fmt: skip
    lab = resolve.resolve(topology.parse(doc), name="ab", root=tmp_path)
    nodes.write_configs(lab)
    two = load_agent_config(tmp_path / "ab" / "compute2" / "agent.toml")
    one = load_agent_config(tmp_path / "ab" / "compute1" / "agent.toml")
    assert two.firewall is False and two.report_interval == 5
    assert one.firewall is True and one.report_interval == 5
    assert nodes.lab_agent_settings(lab) == {"report_interval": 5, "firewall": True}
    doc["hosts"]["controller"]["agents"] = {"firewall": False}  # type: ignore[index]
    with pytest.raises(topology.LabFileError, match="hosts.controller.*runs no agent|controller: agents settings"):
        topology.parse(doc)
