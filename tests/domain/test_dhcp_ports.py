"""The DHCP port an agent serves from: its own, a reserved one (claimed, same address), or new."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from neutrino import errors
from neutrino.db.engine import run_in_transaction
from neutrino.domain.ml2.port_ext import binding_of
from neutrino.domain.models import Agent, Port
from neutrino.domain.scheduling.dhcp import (
    RESERVED_DHCP_PORT,
    add_network,
    dhcp_device_id,
    hosting_agents,
    remove_network,
)
from neutrino.domain.services import networks, ports, subnets
from neutrino.domain.services.dhcp_ports import ensure_dhcp_port
from tests.domain.test_projection import CFG, CTX, sessions  # noqa: F401 - the fixture

pytestmark = pytest.mark.api


def _network(s):
    net = networks.create(s, CTX, CFG, {"project_id": "p1", "name": "n"})
    subnets.create(s, CTX, CFG, {"project_id": "p1", "network_id": net.id, "cidr": "10.0.0.0/24", "ip_version": 4})
    for host in ("net1", "net2", "net3", "elsewhere"):
        s.add(Agent(agent_type="DHCP agent", binary="x", topic="x", host=host, configurations={}))
    s.flush()
    return net.id


def _host(s, network_id, host):
    """Only ``host``'s DHCP agent hosts the network."""
    agent = s.scalar(select(Agent).where(Agent.host == host))
    for other in hosting_agents(s, network_id):
        remove_network(s, agent=other, network_id=network_id)
    add_network(s, agent=agent, network_id=network_id)


def _dhcp_ports(s, network_id):
    return list(s.scalars(select(Port).where(Port.network_id == network_id, Port.device_owner == "network:dhcp")))


def test_new_then_own_then_reserved_and_claimed(sessions):  # noqa: F811
    net = run_in_transaction(sessions, _network)
    run_in_transaction(sessions, lambda s: _host(s, net, "net1"))
    first = run_in_transaction(sessions, lambda s: ensure_dhcp_port(s, CFG, host="net1", network_id=net))
    again = run_in_transaction(sessions, lambda s: ensure_dhcp_port(s, CFG, host="net1", network_id=net))
    assert again == first

    def reserve(s):
        port = s.get(Port, first)
        port.device_id = RESERVED_DHCP_PORT
        return [a.ip_address for a in ports.get(s, CTX, first).fixed_ips], port.mac_address

    addresses, mac = run_in_transaction(sessions, reserve)
    run_in_transaction(sessions, lambda s: _host(s, net, "net2"))
    claimed = run_in_transaction(sessions, lambda s: ensure_dhcp_port(s, CFG, host="net2", network_id=net))
    assert claimed == first  # the same port: same address and MAC for the instances' renewals

    def check(s):
        port = ports.get(s, CTX, claimed)
        assert port.device_id == dhcp_device_id(net, "net2") and port.mac_address == mac
        assert [a.ip_address for a in port.fixed_ips] == addresses
        assert binding_of(s, [claimed])[claimed].host == "net2"
        return len(_dhcp_ports(s, net))

    assert run_in_transaction(sessions, check) == 1
    with pytest.raises(errors.NetworkNotHostedByDhcpAgent):  # a late call from an agent it moved away from
        run_in_transaction(sessions, lambda s: ensure_dhcp_port(s, CFG, host="elsewhere", network_id=net))
    run_in_transaction(sessions, lambda s: _host(s, net, "net3"))  # an admin's move reserves the port too
    again = run_in_transaction(sessions, lambda s: ensure_dhcp_port(s, CFG, host="net3", network_id=net))
    assert again == first and run_in_transaction(sessions, lambda s: len(_dhcp_ports(s, net))) == 1


def test_two_agents_hosting_a_network_get_one_port_each(sessions):  # noqa: F811
    """dhcp_agents_per_network 2: each hosting agent's port carries its own device id
    (``dhcp<uuid5 of the host>-<network>``) and its own address."""
    net = run_in_transaction(sessions, _network)

    def host_both(s):
        for host in ("net1", "net2"):
            add_network(s, agent=s.scalar(select(Agent).where(Agent.host == host)), network_id=net)

    run_in_transaction(sessions, host_both)
    one = run_in_transaction(sessions, lambda s: ensure_dhcp_port(s, CFG, host="net1", network_id=net))
    two = run_in_transaction(sessions, lambda s: ensure_dhcp_port(s, CFG, host="net2", network_id=net))
    assert one != two
    found = run_in_transaction(sessions, lambda s: {p.id: (p.device_id, binding_of(s, [p.id])[p.id].host,
                                                           [a.ip_address for a in p.fixed_ips]) for p in _dhcp_ports(s, net)})  # fmt: skip
    assert found[one][:2] == (dhcp_device_id(net, "net1"), "net1") and found[two][:2] == (dhcp_device_id(net, "net2"), "net2")
    assert found[one][2] != found[two][2]
