"""dnsmasq's files and argv for one network, golden (docs/neutron-behaviour.md, "DHCP agent")."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from neutrino.agent.dhcp import config as c
from neutrino.contract.desired import DhcpNetwork, DhcpPort, DhcpSubnet, FixedIP

pytestmark = pytest.mark.unit

D = Path("/var/lib/neutrino/dhcp/net1")
DEV = "ns-dhcp0000-00"
CIDR4, CIDR6 = "10.0.0.0/24", "2001:db8::/64"


def subnet4(sid: str = "s4", cidr: str = CIDR4, gw: str | None = "10.0.0.1", dns: tuple[str, ...] = (),
            routes: tuple[tuple[str, str], ...] = (), enable: bool = True) -> DhcpSubnet:  # fmt: skip
    return DhcpSubnet(sid, cidr, 4, gw, enable, None, None, dns, routes)


def subnet6(mode: str | None, ra: str | None = None, sid: str = "s6") -> DhcpSubnet:
    return DhcpSubnet(sid, CIDR6, 6, "2001:db8::1", True, mode, ra, (), ())


def ip(subnet: str, addr: str, cidr: str = CIDR4) -> FixedIP:
    return FixedIP(subnet, addr, cidr, None)


def port(pid: str, mac: str, *ips: FixedIP, owner: str = "compute:nova",
         opts: tuple[tuple[str, str, int], ...] = ()) -> DhcpPort:  # fmt: skip
    return DhcpPort(pid, mac, owner, ips, opts)


DHCP = port("dhcp0000-0000", "fa:16:3e:00:00:02", ip("s4", "10.0.0.2"), owner="network:dhcp")
VM = port("vm000001-0000", "fa:16:3e:00:00:05", ip("s4", "10.0.0.5"))


def network(subnets: tuple[DhcpSubnet, ...], ports: tuple[DhcpPort, ...], mtu: int = 1450) -> DhcpNetwork:
    return DhcpNetwork("net1", None, mtu, subnets, ports, (DHCP.port_id,), 1)


def render(net: DhcpNetwork, dhcp: DhcpPort = DHCP, **settings: object) -> c.DhcpConfig:
    return c.render(net, dhcp, D, DEV, c.DhcpSettings(**settings))  # type: ignore[arg-type]


BASE = [
    "dnsmasq", "--no-hosts", "--no-resolv", f"--pid-file={D}/pid", f"--dhcp-hostsfile={D}/host",
    f"--addn-hosts={D}/addn_hosts", f"--dhcp-optsfile={D}/opts", f"--dhcp-leasefile={D}/leases",
    "--dhcp-match=set:ipxe,175", "--dhcp-userclass=set:ipxe6,iPXE", "--local-service", "--bind-dynamic",
    f"--interface={DEV}", "--except-interface=lo", "--dhcp-authoritative",
]  # fmt: skip
TAIL = ["--conf-file=/dev/null", "--domain=openstacklocal", f"--log-facility={D}/dnsmasq.log", "--log-dhcp"]


def test_ipv4_with_gateway_and_dns() -> None:
    cfg = render(network((subnet4(dns=("8.8.8.8", "8.8.4.4")),), (DHCP, VM)))
    assert cfg.files == {
        "host": "fa:16:3e:00:00:05,host-10-0-0-5.openstacklocal,10.0.0.5\n",
        "addn_hosts": "10.0.0.5\thost-10-0-0-5.openstacklocal host-10-0-0-5\n",
        "opts": "tag:subnet-s4,option:dns-server,8.8.8.8,8.8.4.4\ntag:subnet-s4,option:router,10.0.0.1\n",
        "interface": f"{DEV}\n",
    }
    assert cfg.argv == [
        *BASE, "--dhcp-range=set:subnet-s4,10.0.0.0,static,255.255.255.0,86400s",
        "--dhcp-option-force=option:mtu,1450", "--dhcp-lease-max=256", *TAIL,
    ]  # fmt: skip
    assert cfg.ready_port_ids == [VM.port_id]


def test_hosts_files_name_ports_by_their_dns_name() -> None:
    """dns-integration: a port's dns_name is its hostname (a relative one with the agent's
    domain, an absolute one as given without the root dot); without one, host-<ip>."""
    named = dataclasses.replace(VM, dns_name="web1")
    absolute = port("vm000002-0000", "fa:16:3e:00:00:06", ip("s4", "10.0.0.6"))
    absolute = dataclasses.replace(absolute, dns_name="db.example.org.")
    plain = port("vm000003-0000", "fa:16:3e:00:00:07", ip("s4", "10.0.0.7"))
    cfg = render(network((subnet4(),), (DHCP, named, absolute, plain)), domain="lab.test")
    assert cfg.files["host"] == (
        "fa:16:3e:00:00:05,web1.lab.test,10.0.0.5\n"
        "fa:16:3e:00:00:06,db.example.org,10.0.0.6\n"
        "fa:16:3e:00:00:07,host-10-0-0-7.lab.test,10.0.0.7\n"
    )
    assert cfg.files["addn_hosts"] == (
        "10.0.0.5\tweb1.lab.test web1\n"
        "10.0.0.6\tdb.example.org db.example.org\n"
        "10.0.0.7\thost-10-0-0-7.lab.test host-10-0-0-7\n"
    )


def test_no_gateway_and_dns_from_the_dhcp_port() -> None:
    cfg = render(network((subnet4(gw=None),), (DHCP, VM), mtu=1500))
    assert cfg.files["opts"] == "tag:subnet-s4,option:dns-server,10.0.0.2\ntag:subnet-s4,option:router\n"
    assert "--dhcp-option-force=option:mtu,1500" in cfg.argv


def test_host_routes_give_classless_routes_and_249() -> None:
    routes = (("192.168.0.0/16", "10.0.0.254"), ("0.0.0.0/0", "10.0.0.253"))
    cfg = render(network((subnet4(routes=routes),), (DHCP, VM)))
    route = "192.168.0.0/16,10.0.0.254,0.0.0.0/0,10.0.0.1"
    assert cfg.files["opts"] == (
        "tag:subnet-s4,option:dns-server,10.0.0.2\n"
        f"tag:subnet-s4,option:classless-static-route,{route}\n"
        f"tag:subnet-s4,249,{route}\n"
        "tag:subnet-s4,option:router,10.0.0.1\n"
    )
    # a default host route stands in for a missing gateway
    cfg = render(network((subnet4(gw=None, routes=routes),), (DHCP, VM)))
    assert "tag:subnet-s4,option:router,10.0.0.253\n" in cfg.files["opts"]
    # another IPv4 subnet of the network is on-link
    two = (subnet4(), subnet4("s5", "10.0.5.0/24", "10.0.5.1", enable=False))
    opts = render(network(two, (DHCP, VM))).files["opts"]
    assert "tag:subnet-s4,option:classless-static-route,10.0.5.0/24,0.0.0.0,0.0.0.0/0,10.0.0.1\n" in opts
    assert "subnet-s5" not in opts


def test_extra_dhcp_opts_tag_the_port() -> None:
    opts = (("bootfile-name", "pxelinux.0", 4), ("66", "10.0.0.9", 4), ("tag:ipxe,bootfile-name", "x.ipxe", 4),
            ("dns-server", "[2001:db8::53]", 6))  # fmt: skip
    pxe = port("pxe00001-0000", "fa:16:3e:00:00:07", ip("s4", "10.0.0.7"), opts=opts)
    cfg = render(network((subnet4(),), (DHCP, VM, pxe)))
    assert cfg.files["host"].splitlines() == [
        "fa:16:3e:00:00:05,host-10-0-0-5.openstacklocal,10.0.0.5",
        "fa:16:3e:00:00:07,host-10-0-0-7.openstacklocal,10.0.0.7,set:port-pxe00001-0000",
    ]
    assert cfg.files["opts"].splitlines()[-3:] == [
        "tag:port-pxe00001-0000,option:bootfile-name,pxelinux.0",
        "tag:port-pxe00001-0000,66,10.0.0.9",
        "tag:port-pxe00001-0000,tag:ipxe,option:bootfile-name,x.ipxe",
    ]  # the IPv6 option is dropped: the port has no IPv6 address
    # client-id alone: the id in the host line, no tag; with more options both
    cid = port("cid00001-0000", "fa:16:3e:00:00:08", ip("s4", "10.0.0.8"), opts=(("client-id", "abc", 4),))
    assert render(network((subnet4(),), (DHCP, cid))).files["host"] == \
        "fa:16:3e:00:00:08,id:abc,host-10-0-0-8.openstacklocal,10.0.0.8\n"
    cid2 = dataclasses.replace(cid, extra_dhcp_opts=(("client-id", "abc", 4), ("mtu", "1400", 4)))
    cfg = render(network((subnet4(),), (DHCP, cid2)))
    assert cfg.files["host"] == "fa:16:3e:00:00:08,id:abc,host-10-0-0-8.openstacklocal,10.0.0.8,set:port-cid00001-0000\n"
    assert cfg.files["opts"].endswith("tag:port-cid00001-0000,option:mtu,1400\n")


def test_owners_that_need_no_dhcp_are_skipped() -> None:
    others = [port(f"p{i}", f"fa:16:3e:00:01:0{i}", ip("s4", f"10.0.0.{20 + i}"), owner=owner, opts=(("mtu", "1", 4),))
              for i, owner in enumerate(sorted(c.NOT_REQUIRED_OWNERS))]  # fmt: skip
    router = port("rtr", "fa:16:3e:00:00:01", ip("s4", "10.0.0.1"), owner="network:router_interface")
    cfg = render(network((subnet4(),), (DHCP, *others, router)))
    assert cfg.files["host"] == "fa:16:3e:00:00:01,host-10-0-0-1.openstacklocal,10.0.0.1\n"
    assert cfg.ready_port_ids == ["rtr"]
    assert "port-p" not in cfg.files["opts"]
    # addresses on a subnet without DHCP get nothing either
    off = render(network((subnet4(enable=False), subnet4("s9", "10.0.9.0/24", None)), (DHCP, VM)))
    assert off.files["host"] == off.files["addn_hosts"] == ""
    assert not any("subnet-s4" in a for a in off.argv)


def v6_net(mode: str | None, ra: str | None = None, opts: tuple[tuple[str, str, int], ...] = ()) -> DhcpNetwork:
    dhcp = port(DHCP.port_id, DHCP.mac_address, ip("s6", "2001:db8::2", CIDR6), owner="network:dhcp")
    vm = port("vm6", "fa:16:3e:00:00:06", ip("s6", "2001:db8::f816:3eff:fe00:6", CIDR6), opts=opts)
    return dataclasses.replace(network((subnet6(mode, ra),), (dhcp, vm)), ports=(dhcp, vm))


V6_RANGE = "--dhcp-range=set:subnet-s6,2001:db8::,static,64,86400s"


def test_ipv6_stateful() -> None:
    net = v6_net("dhcpv6-stateful", "dhcpv6-stateful")
    cfg = c.render(net, net.ports[0], D, DEV)
    assert cfg.files["host"] == "fa:16:3e:00:00:06,host-2001-db8--f816-3eff-fe00-6.openstacklocal,[2001:db8::f816:3eff:fe00:6]\n"
    assert cfg.files["addn_hosts"] == "2001:db8::f816:3eff:fe00:6\thost-2001-db8--f816-3eff-fe00-6.openstacklocal host-2001-db8--f816-3eff-fe00-6\n"
    assert cfg.files["opts"] == "tag:subnet-s6,option6:dns-server,[2001:db8::2]\ntag:subnet-s6,option6:domain-search,openstacklocal\n"
    assert cfg.argv == [*BASE, V6_RANGE, "--enable-ra", f"--ra-param={DEV},10,0", "--dhcp-option-force=option:mtu,1450",
                        f"--dhcp-lease-max={2**24}", *TAIL]  # fmt: skip
    assert cfg.ready_port_ids == ["vm6"]


def test_ipv6_stateless_hands_out_options_only() -> None:
    net = v6_net("dhcpv6-stateless", None)
    cfg = c.render(net, net.ports[0], D, DEV)
    assert cfg.files["host"] == "" and cfg.ready_port_ids == []
    assert V6_RANGE in cfg.argv and "--enable-ra" not in cfg.argv
    assert "option6:dns-server" in cfg.files["opts"]
    tagged = v6_net("dhcpv6-stateless", None, opts=(("domain-search", "example.org", 6),))
    cfg = c.render(tagged, tagged.ports[0], D, DEV)
    assert cfg.files["host"] == "fa:16:3e:00:00:06,set:port-vm6\n"
    assert cfg.files["opts"].endswith("tag:port-vm6,option6:domain-search,example.org\n")


def test_ipv6_slaac_gets_an_ra_only_range_and_no_host_line() -> None:
    net = v6_net("slaac", "slaac")
    cfg = c.render(net, net.ports[0], D, DEV)
    assert cfg.files["host"] == cfg.files["opts"] == ""
    assert cfg.files["addn_hosts"].startswith("2001:db8::f816:3eff:fe00:6\t")  # DNS still answers
    # dnsmasq advertises the prefix (router lifetime 0: the qrouter, not qdhcp, routes)
    assert cfg.argv == [*BASE, "--dhcp-range=set:subnet-s6,2001:db8::,ra-only,64,86400s", "--enable-ra",
                        f"--ra-param={DEV},10,0", "--dhcp-option-force=option:mtu,1450", *TAIL]


def test_dhcp_port_lookup_and_lease_settings() -> None:
    net = network((subnet4(),), (VM, DHCP))
    assert c.dhcp_port(net) == DHCP
    assert c.dhcp_port(dataclasses.replace(net, dhcp_port_ids=())) is None
    assert c.requires_dhcp(net) and not c.requires_dhcp(network((subnet4(enable=False),), ()))
    cfg = render(net, lease_duration=-1, domain="example.test", log_dhcp=False)
    assert "--dhcp-range=set:subnet-s4,10.0.0.0,static,255.255.255.0,infinite" in cfg.argv
    assert cfg.argv[-2:] == ["--domain=example.test", f"--log-facility={D}/dnsmasq.log"]
    assert cfg.files["host"] == "fa:16:3e:00:00:05,host-10-0-0-5.example.test,10.0.0.5\n"
    assert not any(a.startswith("--dhcp-option-force") for a in render(network((subnet4(),), (DHCP,), mtu=0)).argv)


def test_needs_restart_only_when_the_argv_changes() -> None:
    net = network((subnet4(),), (DHCP, VM))
    a = render(net)
    b = render(dataclasses.replace(net, ports=(DHCP, VM, port("x", "fa:16:3e:00:00:09", ip("s4", "10.0.0.9")))))
    assert a.files["host"] != b.files["host"]
    assert not c.needs_restart(a.argv, b.argv)  # files only: SIGHUP
    assert c.needs_restart(a.argv, render(dataclasses.replace(net, mtu=1400)).argv)
    assert c.needs_restart(a.argv, render(network((subnet4(), subnet4("s5", "10.0.5.0/24")), (DHCP,))).argv)
    assert c.needs_restart(None, a.argv)


def test_initial_lease_file_lists_every_ipv4_dhcp_address() -> None:
    """A dnsmasq taking a network over must know the leases it did not hand out (no NAK)."""
    dual = port("vm000002-0000", "fa:16:3e:00:00:06", ip("s4", "10.0.0.6"), ip("s6", "2001:db8::6", CIDR6))
    net = network((subnet4(), subnet6("dhcpv6-stateful")), (DHCP, VM, dual))
    text = c.render_init_leases(net, c.DhcpSettings(lease_duration=600), now=1000)
    assert text == "1600 fa:16:3e:00:00:05 10.0.0.5 * *\n1600 fa:16:3e:00:00:06 10.0.0.6 * *\n"
    assert c.render_init_leases(net, c.DhcpSettings(lease_duration=-1), now=1000).startswith("0 fa:16:3e:00:00:05 ")
    no_dhcp = network((subnet4(enable=False),), (DHCP, VM))
    assert c.render_init_leases(no_dhcp, c.DhcpSettings(), now=1000) == ""


# --- several DHCP agents per network ------------------------------------------------------------

DHCP2 = port("dhcp0000-0001", "fa:16:3e:00:00:03", ip("s4", "10.0.0.3"), owner="network:dhcp")


def test_two_dhcp_ports_both_handed_out_as_dns_servers_by_both_agents() -> None:
    """Neutron: with more than one DHCP port on a subnet without name servers, every DHCP
    port's address is a DNS server, in port order; both agents write the same options."""
    net = network((subnet4(),), (DHCP, DHCP2, VM))
    mine, theirs = render(net, DHCP), render(dataclasses.replace(net, dhcp_port_ids=(DHCP2.port_id,)), DHCP2)
    assert mine.files["opts"].splitlines()[0] == "tag:subnet-s4,option:dns-server,10.0.0.2,10.0.0.3"
    assert mine.files["opts"] == theirs.files["opts"]
    assert mine.files["host"] == theirs.files["host"] == "fa:16:3e:00:00:05,host-10-0-0-5.openstacklocal,10.0.0.5\n"
    assert mine.files["addn_hosts"] == theirs.files["addn_hosts"]


def test_two_dhcp_ports_and_subnet_name_servers_the_subnet_wins() -> None:
    cfg = render(network((subnet4(dns=("8.8.8.8",)),), (DHCP, DHCP2, VM)))
    assert cfg.files["opts"].splitlines()[0] == "tag:subnet-s4,option:dns-server,8.8.8.8"


def test_both_agents_start_with_the_same_leases_and_are_authoritative() -> None:
    """A rebinding client's broadcast reaches every server; a dnsmasq that did not hand the
    lease out answers it only as authoritative (or with a lease of it from the init file)."""
    net = network((subnet4(),), (DHCP, DHCP2, VM))
    assert c.render_init_leases(net, c.DhcpSettings(lease_duration=120), 1000) == "1120 fa:16:3e:00:00:05 10.0.0.5 * *\n"
    assert "--dhcp-authoritative" in render(net).argv
