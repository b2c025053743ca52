"""The server-to-agent contract computed from a small cloud built in the database.

The scenario is the seed's: a VXLAN network with a VM port on compute1 and one on compute2
in one security group whose ingress rule names the group itself, DHCP and a router with a
gateway and a floating IP on the network node.
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from neutrino.db.engine import make_engine, make_sessionmaker, run_in_transaction
from neutrino.db.migrate import upgrade_if_needed
from neutrino.domain.context import Context
from neutrino.domain.models import (
    Agent,
    AllowedAddressPair,
    FloatingIP,
    NetworkDhcpAgentBinding,
    NetworkSegment,
    Port,
    PortBinding,
    PortBindingLevel,
    Router,
    RouterL3AgentBinding,
    RouterPort,
    RouterRoute,
    SecurityGroup,
    SecurityGroupPortBinding,
    SecurityGroupRule,
    TunnelEndpoint,
)
from neutrino.domain.projection import project_host
from neutrino.domain.scheduling.dhcp import RESERVED_DHCP_PORT, dhcp_device_id
from neutrino.domain.services import networks, ports, subnets
from neutrino.domain.config import DomainConfig
from neutrino.domain.services.enabled import assemble
from neutrino.plugins.router import RouterPlugin

pytestmark = pytest.mark.api

CTX = Context.admin("p1")
# as the server assembles it: bindings, default SG, router guard
CFG = assemble(DomainConfig(quotas={}), (), RouterPlugin(DomainConfig()).port_extensions())


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    upgrade_if_needed(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def _segment(s, network_id, **attrs):
    """Replace whatever segment the ML2 type drivers gave the network with a chosen one."""
    s.execute(delete(NetworkSegment).where(NetworkSegment.network_id == network_id))
    seg = NetworkSegment(network_id=network_id, **attrs)
    s.add(seg)
    return seg


def _cloud(s):
    net = networks.create(s, CTX, CFG, {"project_id": "p1", "name": "tenant"})
    seg = _segment(s, net.id, network_type="vxlan", segmentation_id=1001)
    sub = subnets.create(s, CTX, CFG, {"project_id": "p1", "network_id": net.id, "cidr": "10.0.0.0/24", "ip_version": 4})
    ext = networks.create(s, CTX, CFG, {"project_id": "p1", "name": "ext"})
    _segment(s, ext.id, network_type="flat", physical_network="physnet1")
    ext_sub = subnets.create(s, CTX, CFG, {"project_id": "p1", "network_id": ext.id, "cidr": "172.24.4.0/24", "ip_version": 4})
    s.flush()
    vm1 = ports.create(s, CTX, CFG, {"project_id": "p1", "network_id": net.id, "fixed_ips": [{"ip_address": "10.0.0.11"}]})
    vm2 = ports.create(s, CTX, CFG, {"project_id": "p1", "network_id": net.id, "fixed_ips": [{"ip_address": "10.0.0.12"}]})
    dhcp = ports.create(s, CTX, CFG, {"project_id": "p1", "network_id": net.id, "device_owner": "network:dhcp",
                                     "device_id": dhcp_device_id(net.id, "network")})
    # a DHCP port its dead agent left for the next one, and another host's: not this host's own
    for device_id in (RESERVED_DHCP_PORT, dhcp_device_id(net.id, "network2")):
        ports.create(s, CTX, CFG, {"project_id": "p1", "network_id": net.id, "device_owner": "network:dhcp",
                                  "device_id": device_id})
    qr = ports.create(s, CTX, CFG, {"project_id": "p1", "network_id": net.id, "device_owner": "network:router_interface",
                                   "fixed_ips": [{"subnet_id": sub.id, "ip_address": "10.0.0.1"}]})
    qg = ports.create(s, CTX, CFG, {"project_id": "", "network_id": ext.id, "device_owner": "network:router_gateway"})
    fip_port = ports.create(s, CTX, CFG, {"project_id": "", "network_id": ext.id, "device_owner": "network:floatingip"})
    s.flush()
    for port, host in ((vm1, "compute1"), (vm2, "compute2"), (dhcp, "network"), (qr, "network"), (qg, "network")):
        s.merge(PortBinding(port_id=port.id, host=host, vif_type="ovs", vif_details={}, profile={}))
        s.add(PortBindingLevel(port_id=port.id, host=host, level=0, driver="openvswitch", segment_id=seg.id if port is not qg else None))
    sg = SecurityGroup(project_id="p1", name="web")
    s.add(sg)
    s.flush()
    s.add(SecurityGroupRule(project_id="p1", security_group_id=sg.id, direction="ingress", ethertype="IPv4", remote_group_id=sg.id))
    s.add(SecurityGroupRule(project_id="p1", security_group_id=sg.id, direction="ingress", ethertype="IPv4",
                            protocol="tcp", port_range_min=22, port_range_max=22, remote_ip_prefix="0.0.0.0/0"))
    s.add(SecurityGroupRule(project_id="p1", security_group_id=sg.id, direction="egress", ethertype="IPv6"))
    s.add_all([SecurityGroupPortBinding(port_id=vm1.id, security_group_id=sg.id),
               SecurityGroupPortBinding(port_id=vm2.id, security_group_id=sg.id)])
    s.add(AllowedAddressPair(port_id=vm2.id, mac_address=vm2.mac_address, ip_address="10.0.0.200"))
    agents = {}
    for host, kind in (("compute1", "Open vSwitch agent"), ("compute2", "Open vSwitch agent"),
                       ("network", "Open vSwitch agent"), ("network", "DHCP agent"), ("network", "L3 agent")):
        a = Agent(agent_type=kind, binary="x", topic="x", host=host, configurations={})
        s.add(a)
        agents[(host, kind)] = a
    for host, ip in (("compute1", "192.168.100.11"), ("compute2", "192.168.100.12"), ("network", "192.168.100.10")):
        s.add(TunnelEndpoint(tunnel_type="vxlan", ip_address=ip, host=host))
    s.flush()
    s.add(NetworkDhcpAgentBinding(network_id=net.id, dhcp_agent_id=agents[("network", "DHCP agent")].id))
    router = Router(project_id="p1", name="r1", gw_port_id=qg.id)
    s.add(router)
    s.flush()
    s.add_all([RouterPort(router_id=router.id, port_id=qr.id, port_type="network:router_interface"),
               RouterPort(router_id=router.id, port_id=qg.id, port_type="network:router_gateway"),
               RouterRoute(router_id=router.id, destination="10.9.0.0/16", nexthop="10.0.0.254"),
               RouterL3AgentBinding(router_id=router.id, l3_agent_id=agents[("network", "L3 agent")].id)])
    s.add(FloatingIP(project_id="p1", floating_ip_address="172.24.4.50", floating_network_id=ext.id,
                     floating_port_id=fip_port.id, fixed_port_id=vm1.id, fixed_ip_address="10.0.0.11", router_id=router.id))
    return {"net": net.id, "vm1": vm1.id, "vm2": vm2.id, "router": router.id, "ext_sub": ext_sub.id, "sg": sg.id,
            "dhcp": dhcp.id}


def test_compute_host_sees_its_port_rules_and_peers(sessions):
    ids = run_in_transaction(sessions, _cloud)
    state = run_in_transaction(sessions, lambda s: project_host(s, "compute1"))
    [port] = state.ports
    assert port.port_id == ids["vm1"] and port.segment.network_type == "vxlan" and port.segment.segmentation_id == 1001
    assert [f.ip_address for f in port.fixed_ips] == ["10.0.0.11"] and port.fixed_ips[0].prefixlen == 24
    assert ids["sg"] in port.security_groups
    by_proto = {(r.direction, r.protocol): r for r in port.rules if r.security_group_id == ids["sg"]}
    # the remote group's members (allowed address pairs included) are listed once per host
    assert by_proto[("ingress", None)].remote_group_id == ids["sg"]
    assert by_proto[("ingress", None)].remote_ip_prefixes == ()
    groups = {g.group_id: g for g in state.remote_groups}
    assert groups[ids["sg"]].ipv4 == ("10.0.0.11", "10.0.0.12", "10.0.0.200") and groups[ids["sg"]].ipv6 == ()
    assert by_proto[("ingress", "tcp")].remote_ip_prefixes == ("0.0.0.0/0",)
    assert by_proto[("egress", None)].remote_ip_prefixes == ()
    assert state.local_tunnel_ip == "192.168.100.11"
    peers = {p.host: p for p in state.tunnel_peers}
    assert set(peers) == {"compute2", "network"} and peers["compute2"].network_ids == (ids["net"],)
    assert state.dhcp_networks == () and state.routers == ()


def test_network_node_sees_dhcp_and_router(sessions):
    ids = run_in_transaction(sessions, _cloud)
    state = run_in_transaction(sessions, lambda s: project_host(s, "network"))
    [dhcp] = state.dhcp_networks
    assert dhcp.network_id == ids["net"] and dhcp.segment.segmentation_id == 1001
    assert {p.port_id for p in dhcp.ports} >= {ids["vm1"], ids["vm2"]} and dhcp.dhcp_port_ids == (ids["dhcp"],)
    [router] = state.routers
    assert router.router_id == ids["router"]
    assert [i.fixed_ips[0].ip_address for i in router.interfaces] == ["10.0.0.1"]
    assert router.gateway is not None and router.gateway.fixed_ips[0].subnet_id == ids["ext_sub"]
    assert router.gateway.enable_snat and router.gateway.segment.network_type == "flat"
    assert router.routes == (("10.9.0.0/16", "10.0.0.254"),)
    assert [(f.floating_ip_address, f.fixed_ip_address) for f in router.floating_ips] == [("172.24.4.50", "10.0.0.11")]
    assert {p.host for p in state.tunnel_peers} == {"compute1", "compute2"}


def test_fingerprint_is_stable_and_tracks_changes(sessions):
    ids = run_in_transaction(sessions, _cloud)
    a = run_in_transaction(sessions, lambda s: project_host(s, "compute1"))
    b = run_in_transaction(sessions, lambda s: project_host(s, "compute1"))
    assert a.fingerprint == b.fingerprint and len(a.fingerprint) == 32

    def more(s):
        ports.update(s, CTX, CFG, ids["vm1"], {"name": "renamed", "admin_state_up": False})

    run_in_transaction(sessions, more)
    c = run_in_transaction(sessions, lambda s: project_host(s, "compute1"))
    assert c.fingerprint != a.fingerprint and c.ports[0].admin_state_up is False
    assert run_in_transaction(sessions, lambda s: project_host(s, "nowhere")).ports == ()


def test_router_interfaces_carry_their_address_scope(sessions):
    """A router interface on a subnet from a pool in an address scope carries the scope (the L3
    agent separates scopes with it); re-scoping the pool changes the host's fingerprint."""
    from sqlalchemy import select

    from neutrino.domain.models import Subnet
    from neutrino.domain.services import address_scopes, subnet_pools

    ids = run_in_transaction(sessions, _cloud)
    before = run_in_transaction(sessions, lambda s: project_host(s, "network"))
    assert before.routers[0].interfaces[0].address_scope_v4 is None

    def scope_it(s):  # type: ignore[no-untyped-def]
        scope = address_scopes.create(s, CTX, CFG, {"project_id": "p1", "name": "as", "ip_version": 4})
        pool = subnet_pools.create(s, CTX, CFG, {"project_id": "p1", "name": "sp", "prefixes": ["10.0.0.0/16"],
                                                 "address_scope_id": scope.id})  # fmt: skip
        s.scalars(select(Subnet).where(Subnet.network_id == ids["net"])).one().subnetpool_id = pool.id
        return scope.id

    scope_id = run_in_transaction(sessions, scope_it)
    after = run_in_transaction(sessions, lambda s: project_host(s, "network"))
    [router] = after.routers
    assert (router.interfaces[0].address_scope_v4, router.interfaces[0].address_scope_v6) == (scope_id, None)
    assert router.gateway is not None and router.gateway.address_scope_v4 is None
    assert after.fingerprint != before.fingerprint


def test_remote_ports_are_the_l2population_view(sessions):
    """The Linux bridge agent's FDB and ARP proxy data: the ports of the shared tunnelled
    network bound on the peers, with their addresses (allowed pairs too) and tunnel endpoint."""
    ids = run_in_transaction(sessions, _cloud)
    state = run_in_transaction(sessions, lambda s: project_host(s, "compute1"))
    by_ip = {ip: p for p in state.remote_ports for ip in p.ip_addresses}
    assert {p.network_id for p in state.remote_ports} == {ids["net"]}
    assert by_ip["10.0.0.12"].tunnel_ip == "192.168.100.12" and "10.0.0.200" in by_ip["10.0.0.12"].ip_addresses
    assert by_ip["10.0.0.1"].tunnel_ip == "192.168.100.10"  # the router interface on the network node
    assert "10.0.0.11" not in by_ip  # this host's own port is not remote


def test_an_address_group_rule_reaches_the_hosts_and_follows_the_group(sessions):
    """A rule naming an address group: the group's CIDRs are listed once per host, and adding an
    address changes the host's fingerprint (the notifier then tells its agents)."""
    from neutrino.domain.services import address_groups

    ids = run_in_transaction(sessions, _cloud)

    def with_group(s):  # type: ignore[no-untyped-def]
        group = address_groups.create(s, CTX, CFG, {"project_id": "p1", "name": "ag", "addresses": ["192.0.2.0/24"]})
        s.add(SecurityGroupRule(project_id="p1", security_group_id=ids["sg"], direction="ingress", ethertype="IPv4",
                                protocol="tcp", port_range_min=443, port_range_max=443,
                                remote_address_group_id=group.id))  # fmt: skip
        return group.id

    gid = run_in_transaction(sessions, with_group)
    before = run_in_transaction(sessions, lambda s: project_host(s, "compute1"))
    [rule] = [r for r in before.ports[0].rules if r.protocol == "tcp" and r.port_range_min == 443]
    assert rule.remote_address_group_id == gid and rule.remote_ip_prefixes == () and rule.remote_set_id == gid
    assert {g.group_id: g.ipv4 for g in before.remote_groups}[gid] == ("192.0.2.0/24",)
    run_in_transaction(sessions, lambda s: address_groups.add_addresses(s, CTX, gid, ["198.51.100.7"]))
    after = run_in_transaction(sessions, lambda s: project_host(s, "compute1"))
    assert after.fingerprint != before.fingerprint
    assert {g.group_id: g.ipv4 for g in after.remote_groups}[gid] == ("192.0.2.0/24", "198.51.100.7/32")


def test_bound_ports_name_every_dhcp_port_of_their_network_as_dhcp_server(sessions):
    """The firewall lets DHCP replies in only from these (one DHCP port per agent serving the
    network, a reserved one included: the next agent takes it over with its address)."""
    ids = run_in_transaction(sessions, _cloud)

    def dhcp_ports(s):
        rows = s.scalars(select(Port).where(Port.network_id == ids["net"], Port.device_owner == "network:dhcp"))
        return sorted((a.ip_address, p.mac_address) for p in rows for a in p.fixed_ips)

    expected = run_in_transaction(sessions, dhcp_ports)
    assert len(expected) == 3
    [port] = run_in_transaction(sessions, lambda s: project_host(s, "compute1")).ports
    assert port.dhcp_servers == tuple(expected)
