"""The lab file and its resolution: every name and address, decided without root."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from neutrino.lab import resolve
from neutrino.lab import topology

pytestmark = pytest.mark.unit
EXAMPLES = sorted(Path(__file__).parents[2].joinpath("examples").glob("*.yaml"))


def test_default_lab_is_the_seed():
    lab = resolve.resolve(topology.default_lab())
    assert lab.name == "seed"
    assert [h.name for h in lab.hosts] == ["controller", "network", "compute1", "compute2"]
    assert [s.name for s in lab.switches] == ["seed-sw-p1", "seed-sw-tun", "seed-sw-ext", "seed-sw-mgt"]
    controller, network, c1, c2 = lab.hosts
    assert not controller.has_ovs and controller.wires == ()
    assert network.bridge_mappings == {"physnet1": "br-physnet1", "extnet": "br-ex"}
    assert network.bridges() == ["br-int", "br-physnet1", "br-ex", "br-phy"]
    assert [(w.host_end, w.bridge, w.root_end) for w in c1.wires] == [
        ("eth1", "br-physnet1", "seed-3p1"),
        ("eth2", "br-phy", "seed-3t"),
    ]
    assert [h.tunnel_ip for h in lab.hosts] == [None, "172.31.0.1/24", "172.31.0.2/24", "172.31.0.3/24"]
    assert c2.netns == "seed-compute2" and c2.prefix == "seed-compute2-"
    assert c2.context.namespace("qdhcp-x") == "seed-compute2-qdhcp-x"
    assert c2.ovs_dir == resolve.STATE_ROOT / "seed" / "compute2" / "ovs"  # NEUTRINO_LAB_DIR moves the root
    assert lab.outside is not None and lab.outside.address == "198.51.100.1/24"
    assert lab.vm_namespace("vm1") == "seed-vm-vm1"
    # the management network: every host's eth0, the root namespace first
    assert lab.management is not None and lab.management.cidr == resolve.management_cidr("seed")
    assert lab.management.root_address.endswith(".1/22")
    assert [h.management.root_end for h in lab.hosts] == ["seed-1m", "seed-2m", "seed-3m", "seed-4m"]
    assert {h.management.host_end for h in lab.hosts} == {"eth0"}
    assert lab.controller.name == "controller" and lab.controller.management_ip.endswith(".2/22")


def test_management_ranges():
    import ipaddress

    space = ipaddress.ip_network("100.64.0.0/10")
    cidrs = {resolve.management_cidr(f"lab{i}") for i in range(50)}
    assert len(cidrs) > 45 and all(ipaddress.ip_network(c).subnet_of(space) for c in cidrs)
    given = topology.parse({"management_network": {"cidr": "10.250.0.0/28"}, "hosts": {"c": {"roles": ["compute"]}}})
    assert resolve.resolve(given).host("c").management_ip == "10.250.0.2/28"
    clash = topology.parse({"management_network": {"cidr": "172.31.0.0/24"}, "hosts": {"c": {"roles": ["compute"]}}})
    with pytest.raises(ValueError, match="overlaps"):
        resolve.resolve(clash)
    hosts = {f"c{i}": {"roles": ["compute"]} for i in range(20)}
    with pytest.raises(ValueError, match="too few"):
        resolve.resolve(topology.parse({"management_network": {"cidr": "10.250.0.0/28"}, "hosts": hosts}))


def test_examples_are_valid_and_the_seed_example_is_the_default():
    assert EXAMPLES, "examples/*.yaml"
    for path in EXAMPLES:
        resolve.resolve(topology.load(path))
    seed = topology.load(Path(EXAMPLES[0]).with_name("seed.yaml"))
    assert resolve.resolve(seed).to_dict() == resolve.resolve(topology.default_lab()).to_dict() | {"source": resolve.resolve(seed).source}


def test_overrides():
    lab = resolve.resolve(topology.load(Path(EXAMPLES[0]).with_name("multi.yaml")))
    netcomp, compute1 = lab.host("netcomp"), lab.host("compute1")
    assert netcomp.roles == ("network", "compute") and netcomp.external  # network role: br-ex
    assert netcomp.bridge_mappings["extnet"] == "br-ex"
    assert compute1.bridge_mappings == {"physnet2": "br-physnet2"}
    assert compute1.tunnel_ip == "10.99.0.50/24" and netcomp.tunnel_ip == "10.99.0.1/24"
    assert [w.root_end for w in compute1.wires] == ["multi-3p2", "multi-3t"]


def test_names_fit_and_never_clash_in_a_big_lab():
    hosts = {f"compute{i}": {"roles": ["compute"]} for i in range(1, 121)}
    lab = resolve.resolve(topology.parse({"name": "abcdefgh", "hosts": {"network": {"roles": ["network"]}, **hosts}}))
    links = lab.root_links()
    assert len(links) == len(set(links)) and max(len(n) for n in links) <= 15
    assert len({h.tunnel_ip for h in lab.hosts}) == len(lab.hosts)
    for h in lab.hosts:
        assert all(len(w.host_end) <= 15 for w in h.wires)
        assert len(str(h.ovs_dir / "ovs-vswitchd.99999999.ctl")) < 108  # unix socket path limit


def test_other_name_overrides_the_file():
    lab = resolve.resolve(topology.default_lab(), name="lab2")
    assert lab.name == "lab2" and lab.hosts[2].netns == "lab2-compute1"
    assert all(n.startswith("lab2-") for n in lab.root_links() + lab.namespaces())


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"name": "Seed", "hosts": {"a": {"roles": ["compute"]}}}, "name: Value error, lab name 'Seed'"),
        ({"name": "toolongname", "hosts": {"a": {"roles": ["compute"]}}}, "1-8 characters"),
        ({"hosts": {}}, "hosts: .*at least 1"),
        ({"hosts": {"a": {"roles": []}}}, "roles"),
        ({"hosts": {"a": {"roles": ["storage"]}}}, "roles.0"),
        ({"hosts": {"Bad_Name": {"roles": ["compute"]}}}, "host name 'Bad_Name'"),
        ({"hosts": {"a": {"roles": ["compute"], "physical_networks": ["physnet9"]}}}, "unknown physical network"),
        ({"hosts": {"a": {"roles": ["controller"], "tunnel_ip": "172.31.0.9"}}}, "only network and compute"),
        ({"hosts": {"a": {"roles": ["compute"], "tunnel_ip": "10.0.0.1"}}}, "not in 172.31.0.0/24"),
        ({"tunnel_network": {"cidr": "10.0.0.1/24"}, "hosts": {"a": {"roles": ["compute"]}}}, "not a network CIDR"),
        ({"external_network": {"cidr": "198.51.100.0/24", "outside": "10.0.0.1"}, "hosts": {"a": {"roles": ["network"]}}}, "outside address"),
        ({"physical_networks": [{"name": "p"}, {"name": "p"}], "hosts": {"a": {"roles": ["compute"]}}}, "unique"),
        ({"hosts": {"a": {"roles": ["compute"], "colour": "blue"}}}, "colour: Extra inputs"),
    ],
)
def test_invalid_files_say_where(doc, message):
    with pytest.raises(topology.LabFileError, match=message):
        topology.parse(doc)


def test_duplicate_tunnel_ips_refused():
    doc = {"hosts": {"a": {"roles": ["compute"], "tunnel_ip": "172.31.0.5"}, "b": {"roles": ["compute"], "tunnel_ip": "172.31.0.5"}}}
    with pytest.raises(ValueError, match="unique"):
        resolve.resolve(topology.parse(doc))


def test_published_schema_is_current():
    published = json.loads(Path(topology.__file__).with_name("schema.json").read_text())
    assert published == topology.json_schema(), "regenerate: neutrino lab schema > src/neutrino/lab/schema.json"


def test_unreadable_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("hosts: [unclosed")
    with pytest.raises(topology.LabFileError, match="is not YAML"):
        topology.load(bad)


def test_two_network_nodes_both_reach_the_external_switch():
    lab = resolve.resolve(topology.load(Path(EXAMPLES[0]).with_name("two-network-nodes.yaml")))
    network_hosts = [h for h in lab.hosts if "network" in h.roles]
    assert [h.name for h in network_hosts] == ["network1", "network2"]
    for h in network_hosts:
        assert h.external and h.bridge_mappings["extnet"] == "br-ex"
        assert any(w.switch == "twonet-sw-ext" and w.bridge == "br-ex" for w in h.wires)
    assert lab.host("network1").tunnel_ip != lab.host("network2").tunnel_ip
    assert len(set(lab.root_links())) == len(lab.root_links())


def test_process_configs_take_overrides(tmp_path):
    """The lab's server moves routers off dead L3 agents; a test may shorten the timers."""
    import tomllib

    from neutrino.agent.config import load_agent_config
    from neutrino.lab import nodes

    lab = resolve.resolve(topology.load(Path(EXAMPLES[0]).with_name("two-network-nodes.yaml")), root=tmp_path)
    nodes.write_configs(lab)
    server = tomllib.loads((lab.state_dir / "server.toml").read_text())["server"]
    assert server["allow_automatic_l3agent_failover"] is True and "agent_down_time" not in server
    nodes.write_configs(lab, server={"agent_down_time": 4}, agents={"report_interval": 1.0})
    server = tomllib.loads((lab.state_dir / "server.toml").read_text())["server"]
    assert server["agent_down_time"] == 4 and server["allow_automatic_l3agent_failover"] is True
    agent = load_agent_config(nodes.find(lab, "network2").config)
    assert agent.report_interval == 1.0 and agent.roles == ("l2", "dhcp", "l3")
