"""dnsmasq's configuration for one network, as Neutron's Dnsmasq driver writes it (pure).

Data in, text out: a ``DhcpNetwork``, its DHCP port and the settings give the ``host``,
``addn_hosts``, ``opts`` and ``interface`` files and the dnsmasq argv (docs/neutron-behaviour.md,
"DHCP agent"; docs/dataplane.md, "dnsmasq per network"). Ports owned by the network itself (DHCP,
HA, floating IP, DVR) get no lines.
IPv6 SLAAC addresses get no host line (the client does not ask), DHCPv6-stateless ones only a
``set:port-<id>`` tag line when the port has extra options. Differences from Neutron: the
``dns-server`` option names the DHCP port's own address(es) when the subnet has no name servers
(Neutron leaves it to dnsmasq's default when there is one DHCP port: same answer on the wire;
with several DHCP ports, one per agent, both name all of them, in port order);
``--dhcp-authoritative``: every server of a network ACKs a rebinding client's broadcast for a
port it has a host line for, even without a lease of its own (docs/neutron-behaviour.md,
"Several DHCP agents per network");
``--interface``/``--except-interface=lo`` pin dnsmasq to the ns- device (docs/dataplane.md, "dnsmasq per network");
``--enable-ra`` when a subnet has an ``ipv6_ra_mode`` (Neutron leaves RAs to radvd in qrouter).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from neutrino.contract.desired import DhcpNetwork, DhcpPort, DhcpSubnet

DEVICE_OWNER_DHCP = "network:dhcp"
NOT_REQUIRED_OWNERS = frozenset({
    "network:dhcp", "network:router_ha_interface", "network:floatingip", "network:distributed",
})  # fmt: skip
SLAAC, STATEFUL, STATELESS = "slaac", "dhcpv6-stateful", "dhcpv6-stateless"
CLIENT_ID = "client-id"
WIN2K3_STATIC_ROUTE = "249"
IPV4_ANY = "0.0.0.0/0"
METADATA_CIDR = "169.254.169.254/32"
FILES = ("host", "addn_hosts", "opts", "interface")
"""The files rewritten on every change; dnsmasq rereads the first three on SIGHUP."""


@dataclass(frozen=True)
class DhcpSettings:
    domain: str = "openstacklocal"
    lease_duration: int = 86400
    """Seconds; -1 is ``infinite``."""
    lease_max: int = 2**24
    log_dhcp: bool = True
    enable_isolated_metadata: bool = False
    """Serve metadata in the DHCP namespace of networks without a router (docs/metadata.md)."""
    force_metadata: bool = False
    """... of every network, routed or not."""

    @property
    def metadata(self) -> bool:
        return self.enable_isolated_metadata or self.force_metadata


@dataclass(frozen=True)
class Paths:
    """The files of one network under ``<state_dir>/<network_id>/``."""

    conf_dir: Path

    def __truediv__(self, name: str) -> Path:
        return self.conf_dir / name

    @property
    def pid(self) -> Path:
        return self.conf_dir / "pid"

    @property
    def leases(self) -> Path:
        return self.conf_dir / "leases"

    @property
    def log(self) -> Path:
        return self.conf_dir / "dnsmasq.log"


@dataclass(frozen=True)
class HostEntry:
    port_id: str
    mac: str
    ip: str
    hostname: str
    fqdn: str
    dhcp: bool
    """The address is handed out by DHCP (not SLAAC or DHCPv6-stateless)."""
    options: bool
    """The client talks DHCP at all (not SLAAC), so per-port options apply."""


@dataclass(frozen=True)
class DhcpConfig:
    files: dict[str, str]
    argv: list[str]
    ready_port_ids: list[str]
    """The ports with a line in the host file, in file order."""


def requires_dhcp(network: DhcpNetwork) -> bool:
    return any(s.enable_dhcp for s in network.subnets)


def dhcp_port(network: DhcpNetwork) -> DhcpPort | None:
    """The network's DHCP port that the server bound to this host, if it exists yet."""
    ids = set(network.dhcp_port_ids)
    return next((p for p in network.ports if p.device_owner == DEVICE_OWNER_DHCP and p.port_id in ids), None)


def _mode(subnet: DhcpSubnet) -> str | None:
    return subnet.ipv6_address_mode if subnet.ip_version == 6 else None


def _literal(ip: str) -> str:
    return f"[{ip}]" if ipaddress.ip_address(ip).version == 6 else ip


def names_of(dns_name: str, ip_address: str, domain: str) -> tuple[str, str]:
    """(hostname, fqdn) of one address of a port: its ``dns_name`` when it has one (an absolute
    name is its own fqdn, without the root dot dnsmasq does not take), else ``host-<ip>``; a
    relative name gets this agent's domain, as Neutron's DHCP agent does."""
    if dns_name.endswith("."):
        name = dns_name.rstrip(".")
        return name, name
    hostname = dns_name or "host-" + ip_address.replace(".", "-").replace(":", "-")
    return hostname, f"{hostname}.{domain}" if domain else hostname


def host_entries(network: DhcpNetwork, settings: DhcpSettings) -> list[HostEntry]:
    subnets = {s.subnet_id: s for s in network.subnets if s.enable_dhcp}
    out = []
    for port in network.ports:
        if port.device_owner in NOT_REQUIRED_OWNERS:
            continue
        for fixed in port.fixed_ips:
            subnet = subnets.get(fixed.subnet_id)
            if subnet is None:
                continue
            hostname, fqdn = names_of(port.dns_name, fixed.ip_address, settings.domain)
            mode = _mode(subnet)
            out.append(HostEntry(port.port_id, port.mac_address, fixed.ip_address, hostname, fqdn,
                                 mode not in (SLAAC, STATELESS), mode != SLAAC))
    return out


def render_host(network: DhcpNetwork, settings: DhcpSettings) -> tuple[str, list[str]]:
    """The ``--dhcp-hostsfile`` text and the ports it names."""
    ports = {p.port_id: p for p in network.ports}
    lines: list[str] = []
    named: list[str] = []
    for e in host_entries(network, settings):
        opts = ports[e.port_id].extra_dhcp_opts
        tag = f",set:port-{e.port_id}"
        if not e.dhcp:
            line = f"{e.mac}{tag}" if e.options and opts else None
        else:
            client_id = next((value for name, value, _ in opts if name == CLIENT_ID), None)
            head = f"{e.mac},id:{client_id}" if client_id else e.mac
            line = f"{head},{e.fqdn},{_literal(e.ip)}"
            if opts and not (client_id and len(opts) == 1):
                line += tag
        if line is not None and line not in lines:
            lines.append(line)
            if e.port_id not in named:
                named.append(e.port_id)
    return "".join(f"{line}\n" for line in lines), named


def render_addn_hosts(network: DhcpNetwork, settings: DhcpSettings) -> str:
    """/etc/hosts style; the fqdn first so that PTR answers give it."""
    return "".join(f"{e.ip}\t{e.fqdn} {e.hostname}\n" for e in host_entries(network, settings))


def render_init_leases(network: DhcpNetwork, settings: DhcpSettings, now: int) -> str:
    """The lease file dnsmasq starts with: every IPv4 DHCP address of the network as a lease.

    As Neutron's ``_output_init_lease_file``: a dnsmasq that has just taken a network over
    (another agent died, or it restarted) knows no leases, and without this it would NAK a
    client's unicast renewal ("lease not found") and send it back to discovery. Format
    ``<expiry epoch> <mac> <ip> * *`` (hostname and client id are learnt at the next renewal);
    expiry 0 means infinite.
    """
    expiry = 0 if settings.lease_duration == -1 else now + settings.lease_duration
    v4 = {s.subnet_id for s in network.subnets if s.enable_dhcp and s.ip_version == 4}
    lines = []
    ports = {p.port_id: p for p in network.ports}
    for e in host_entries(network, settings):
        if not e.dhcp or ":" in e.ip:
            continue
        if not any(f.ip_address == e.ip and f.subnet_id in v4 for f in ports[e.port_id].fixed_ips):
            continue
        lines.append(f"{expiry} {e.mac} {e.ip} * *\n")
    return "".join(lines)


def format_option(ip_version: int, tag: str, option: str, *values: str) -> str:
    """``tag:<tag>[,tag:<extra>],option[6]:<name>[,values]``; numeric options stay bare."""
    extra = None
    if option.startswith("tag:") and "," in option:
        extra, option = option.split(",", 1)
    if not option.isdigit():
        option = f"{'option' if ip_version == 4 else 'option6'}:{option}"
    return ",".join([f"tag:{tag}", *([extra] if extra else []), option, *values])


def dhcp_server_ips(network: DhcpNetwork, port: DhcpPort | None) -> dict[str, list[str]]:
    """Subnet id -> the addresses handed out as DNS servers when the subnet names none: every
    DHCP port's (one per agent serving the network, in port order, so that every agent gives
    the same answer) when there are several, else this agent's own (Neutron's
    ``_generate_opts_per_port``)."""
    own: dict[str, list[str]] = {}
    for fixed in port.fixed_ips if port else ():
        own.setdefault(fixed.subnet_id, []).append(fixed.ip_address)
    every: dict[str, list[str]] = {}
    for p in network.ports:
        if p.device_owner == DEVICE_OWNER_DHCP:
            for fixed in p.fixed_ips:
                every.setdefault(fixed.subnet_id, []).append(fixed.ip_address)
    return {sid: every[sid] if len(every.get(sid, ())) > 1 else own.get(sid, []) for sid in {*own, *every}}


def render_opts(network: DhcpNetwork, port: DhcpPort | None, settings: DhcpSettings) -> str:
    dhcp_ips = dhcp_server_ips(network, port)
    lines = []
    isolated = isolated_subnets(network) if settings.metadata else set()
    for subnet in network.subnets:
        v = subnet.ip_version
        if not subnet.enable_dhcp or _mode(subnet) == SLAAC:
            continue
        tag = f"subnet-{subnet.subnet_id}"
        servers = subnet.dns_nameservers or tuple(dhcp_ips.get(subnet.subnet_id, ()))
        if servers:
            lines.append(format_option(v, tag, "dns-server", ",".join(_literal(s) for s in servers)))
        if v == 6:
            if settings.domain:
                lines.append(format_option(v, tag, "domain-search", settings.domain))
            continue
        gateway = subnet.gateway_ip
        routes = []
        for destination, nexthop in subnet.host_routes:
            if destination == IPV4_ANY:
                gateway = gateway or nexthop
            else:
                routes.append(f"{destination},{nexthop}")
        if settings.metadata:  # the metadata address: via the DHCP port when isolated, else the router
            via = dhcp_ips.get(subnet.subnet_id, [None])[0] if settings.force_metadata or subnet.subnet_id in isolated else gateway
            if via:
                routes.append(f"{METADATA_CIDR},{via}")
        for other in network.subnets:  # the network's other subnets are on-link
            if other.ip_version == 4 and other.cidr != subnet.cidr:
                routes.insert(0, f"{other.cidr},0.0.0.0")
        if routes:
            if gateway:
                routes.append(f"{IPV4_ANY},{gateway}")
            lines.append(format_option(v, tag, "classless-static-route", ",".join(routes)))
            lines.append(format_option(v, tag, WIN2K3_STATIC_ROUTE, ",".join(routes)))
        lines.append(format_option(v, tag, "router", *([gateway] if gateway else [])))
    for p in network.ports:
        if p.device_owner in NOT_REQUIRED_OWNERS or not p.extra_dhcp_opts:
            continue
        versions = {ipaddress.ip_address(f.ip_address).version for f in p.fixed_ips}
        for name, value, ip_version in p.extra_dhcp_opts:
            if name != CLIENT_ID and ip_version in versions:
                lines.append(format_option(ip_version, f"port-{p.port_id}", name, value))
    return "".join(f"{line}\n" for line in lines)


def dnsmasq_argv(network: DhcpNetwork, conf_dir: Path, interface: str, settings: DhcpSettings) -> list[str]:
    paths = Paths(Path(conf_dir))
    argv = [
        "dnsmasq", "--no-hosts", "--no-resolv", f"--pid-file={paths.pid}",
        f"--dhcp-hostsfile={paths / 'host'}", f"--addn-hosts={paths / 'addn_hosts'}",
        f"--dhcp-optsfile={paths / 'opts'}", f"--dhcp-leasefile={paths.leases}",
        "--dhcp-match=set:ipxe,175", "--dhcp-userclass=set:ipxe6,iPXE", "--local-service", "--bind-dynamic",
        f"--interface={interface}", "--except-interface=lo", "--dhcp-authoritative",
    ]  # fmt: skip
    lease = "infinite" if settings.lease_duration == -1 else f"{settings.lease_duration}s"
    possible = 0
    for subnet in network.subnets:
        if not subnet.enable_dhcp:
            continue
        net = ipaddress.ip_network(subnet.cidr, strict=False)
        tag = f"set:subnet-{subnet.subnet_id}"
        if subnet.ip_version == 4:
            argv.append(f"--dhcp-range={tag},{net.network_address},static,{net.netmask},{lease}")
        elif (_mode(subnet) in (STATEFUL, STATELESS) or not (subnet.ipv6_address_mode or subnet.ipv6_ra_mode)) \
                and net.prefixlen >= 64:
            argv.append(f"--dhcp-range={tag},{net.network_address},static,{net.prefixlen},{lease}")
        elif subnet.ipv6_ra_mode == SLAAC and net.prefixlen == 64:
            # no radvd here: dnsmasq advertises the prefix for SLAAC (router lifetime 0 below:
            # it must not become the instances' default router; the qrouter is)
            argv.append(f"--dhcp-range={tag},{net.network_address},ra-only,{net.prefixlen},{lease}")
            continue
        else:
            continue
        possible += net.num_addresses
    if any(s.enable_dhcp and s.ip_version == 6 and s.ipv6_ra_mode for s in network.subnets):
        argv += ["--enable-ra", f"--ra-param={interface},10,0"]
    if network.mtu > 0:
        argv.append(f"--dhcp-option-force=option:mtu,{network.mtu}")
    if possible:
        argv.append(f"--dhcp-lease-max={min(possible, settings.lease_max)}")
    argv += ["--conf-file=/dev/null", f"--domain={settings.domain}", f"--log-facility={paths.log}"]
    if settings.log_dhcp:
        argv.append("--log-dhcp")
    return argv


def render(network: DhcpNetwork, port: DhcpPort, conf_dir: Path, interface: str,
           settings: DhcpSettings | None = None) -> DhcpConfig:  # fmt: skip
    """Everything dnsmasq needs for ``network`` served on ``interface`` (the ns- device)."""
    settings = settings or DhcpSettings()
    host, named = render_host(network, settings)
    files = {
        "host": host,
        "addn_hosts": render_addn_hosts(network, settings),
        "opts": render_opts(network, port, settings),
        "interface": f"{interface}\n",
    }
    return DhcpConfig(files, dnsmasq_argv(network, conf_dir, interface, settings), named)


def needs_restart(old_argv: Sequence[str] | None, new_argv: Sequence[str]) -> bool:
    """A changed argv (or none running) needs a restart; changed files only need SIGHUP."""
    return old_argv is None or list(old_argv) != list(new_argv)


ROUTER_INTERFACE_OWNERS = frozenset({
    "network:router_interface", "network:ha_router_replicated_interface", "network:router_interface_distributed",
})  # fmt: skip


def isolated_subnets(network: DhcpNetwork) -> set[str]:
    """Subnets no router serves: no router interface port holds their gateway address
    (Neutron's ``get_isolated_subnets``, docs/neutron-behaviour.md, "Metadata")."""
    gateways = {s.subnet_id: s.gateway_ip for s in network.subnets}
    routed = {
        f.subnet_id
        for p in network.ports if p.device_owner in ROUTER_INTERFACE_OWNERS
        for f in p.fixed_ips if gateways.get(f.subnet_id) == f.ip_address
    }  # fmt: skip
    return {s.subnet_id for s in network.subnets} - routed


def should_enable_metadata(network: DhcpNetwork, isolated_metadata: bool, force_metadata: bool) -> bool:
    """A metadata proxy in this network's DHCP namespace: with ``force_metadata`` for every
    network with a DHCP subnet, with ``enable_isolated_metadata`` when one of them is isolated."""
    dhcp_subnets = [s.subnet_id for s in network.subnets if s.enable_dhcp]
    if not dhcp_subnets:
        return False
    if force_metadata:
        return True
    return isolated_metadata and bool(set(dhcp_subnets) & isolated_subnets(network))
