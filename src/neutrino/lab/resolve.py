"""Turn a lab file into every concrete name, address and wire, before touching the kernel.

Everything a lab creates is named from the lab's name (at most 8 characters), so that labs
coexist and ``down`` can find what a lab owns even when its record is lost:

* namespaces ``<lab>-<host>`` (hosts), ``<lab>-outside``, ``<lab>-vm-<name>`` (instances), and
  per-host namespaces prefixed ``<lab>-<host>-`` (``seed-network-qdhcp-<id>``);
* in the root namespace only the underlay: switches ``<lab>-sw-p<i>`` (physnet i),
  ``<lab>-sw-tun``, ``<lab>-sw-ext``, ``<lab>-sw-mgt`` and the root ends of the wires
  ``<lab>-<n><p<i>|t|x|m>`` (host number n), ``<lab>-out``; all at most 15 characters;
* the management network: every host's ``eth0`` on ``<lab>-sw-mgt``, whose root-namespace
  address lets the machine's ``openstack`` CLI reach the API server on the controller. Its
  default range is a /22 of 100.64.0.0/10 (shared address space, unused by the lab's other
  ranges) picked by the lab name's CRC, so that two labs' root routes do not overlap;
* state under ``/run/neutrino/lab/<lab>/`` (a host's OVS in ``<host>/ovs``).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neutrino.dataplane.host import HostContext
from neutrino.dataplane.naming import check_ifname, physnet_bridge
from neutrino.lab.topology import Datapath, LabFile, Role, check_lab_name

STATE_ROOT = Path(os.environ.get("NEUTRINO_LAB_DIR", "/run/neutrino/lab"))
"""Where labs keep their state (NEUTRINO_LAB_DIR overrides it: tests use a short private one)."""
TUNNEL_BRIDGE = "br-phy"
EXTERNAL_BRIDGE = "br-ex"
INTEGRATION_BRIDGE = "br-int"
MANAGEMENT_SPACE = ipaddress.ip_network("100.64.0.0/10")
MANAGEMENT_PREFIX = 22
MANAGEMENT_INTERFACE = "eth0"


@dataclass(frozen=True)
class Switch:
    """A Linux bridge in the root namespace standing for a physical switch."""

    name: str
    purpose: str  # "physnet <name>", "tunnel", "external"


@dataclass(frozen=True)
class Wire:
    """A veth from a switch (root end) to a host (host end, a port of ``bridge`` in its OVS)."""

    switch: str
    root_end: str
    host_end: str
    bridge: str | None


@dataclass(frozen=True)
class ResolvedHost:
    name: str
    number: int
    roles: tuple[str, ...]
    netns: str
    prefix: str
    ovs_dir: Path | None
    datapath: str
    wires: tuple[Wire, ...]
    bridge_mappings: dict[str, str]
    tunnel_ip: str | None  # CIDR on br-phy
    external: bool
    management: Wire | None = None
    management_ip: str | None = None  # CIDR on eth0, the management network
    mechanism: str = "openvswitch"
    """linuxbridge: no OVS; ``bridge_mappings`` map physnets to the wires' interfaces and the
    tunnel address sits on the tunnel wire itself (the kernel's VXLAN routes by it)."""

    @property
    def address(self) -> str | None:
        """The host's management address, without its prefix length."""
        return self.management_ip.split("/")[0] if self.management_ip else None

    @property
    def context(self) -> HostContext:
        return HostContext(name=self.name, netns=self.netns, ovs_dir=self.ovs_dir, prefix=self.prefix)

    @property
    def has_ovs(self) -> bool:
        return self.ovs_dir is not None

    @property
    def has_dataplane(self) -> bool:
        """Runs an L2 agent and can host instances (a network or compute host)."""
        return self.has_ovs or self.mechanism == "linuxbridge"

    @property
    def linuxbridge(self) -> bool:
        return self.mechanism == "linuxbridge"

    @property
    def tunnel_device(self) -> str:
        """Where the tunnel address is: br-phy's internal port (OVS), the tunnel wire (linuxbridge)."""
        if self.linuxbridge:
            return next(w.host_end for w in self.wires if w.switch.endswith("-sw-tun"))
        return TUNNEL_BRIDGE

    def bridges(self) -> list[str]:
        """The OVS bridges the lab builds on this host (the agent adds br-int's peers later)."""
        if not self.has_ovs:
            return []
        out = [INTEGRATION_BRIDGE, *self.bridge_mappings.values()]
        if self.tunnel_ip:
            out.append(TUNNEL_BRIDGE)
        return list(dict.fromkeys(out))


@dataclass(frozen=True)
class Outside:
    netns: str
    interface: str
    address: str  # CIDR
    wire: Wire


@dataclass(frozen=True)
class Management:
    """The management network: its switch, range, and the root namespace's address on it."""

    switch: str
    cidr: str
    root_address: str  # CIDR on the switch, in the root namespace


@dataclass(frozen=True)
class ResolvedLab:
    name: str
    state_dir: Path
    mtu: int
    switches: tuple[Switch, ...]
    hosts: tuple[ResolvedHost, ...]
    outside: Outside | None
    tunnel_cidr: str | None
    external_cidr: str | None
    external_physnet: str | None
    management: Management | None = None
    source: dict[str, Any] = field(default_factory=dict, compare=False)
    ovs_port_type: str = "system"  # agent/l2/ovs_port_types.py

    @property
    def controller(self) -> ResolvedHost:
        """The host that runs the API server: the first with the controller role, else the first."""
        return next((h for h in self.hosts if "controller" in h.roles), self.hosts[0])

    def host(self, name: str) -> ResolvedHost:
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(f"lab {self.name} has no host {name!r} (hosts: {', '.join(h.name for h in self.hosts)})")

    def vm_namespace(self, vm: str) -> str:
        return vm_namespace(self.name, vm)

    @property
    def kernel_only(self) -> bool:
        """Every host switches in the kernel (linuxbridge): no packet crosses OVS userspace,
        so checksum offload can stay on everywhere (docs/dataplane.md, "Checksum offload")."""
        return all(h.linuxbridge for h in self.hosts if h.has_dataplane)

    def namespaces(self) -> list[str]:
        out = [h.netns for h in self.hosts]
        if self.outside:
            out.append(self.outside.netns)
        return out

    def root_links(self) -> list[str]:
        out = [s.name for s in self.switches]
        out += [w.root_end for h in self.hosts for w in h.wires]
        out += [h.management.root_end for h in self.hosts if h.management]
        if self.outside:
            out.append(self.outside.wire.root_end)
        return out

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(dataclasses.asdict(self))


def vm_namespace(lab: str, vm: str) -> str:
    return f"{lab}-vm-{vm}"


def lab_prefix(lab: str) -> str:
    """What every namespace and root link of lab ``lab`` starts with."""
    return f"{lab}-"


def state_dir(lab: str, root: Path = STATE_ROOT) -> Path:
    return root / lab


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def resolve(lab: LabFile, *, name: str | None = None, detected_datapath: str = "netdev", root: Path = STATE_ROOT) -> ResolvedLab:
    lab_name = check_lab_name(name or lab.name)
    base = state_dir(lab_name, root)
    physnets = [p.name for p in lab.physical_networks]
    switches = [Switch(f"{lab_name}-sw-p{i}", f"physnet {p}") for i, p in enumerate(physnets, 1)]
    if lab.tunnel_network:
        switches.append(Switch(f"{lab_name}-sw-tun", "tunnel"))
    if lab.external_network:
        switches.append(Switch(f"{lab_name}-sw-ext", "external"))
    management = _management(lab, lab_name)
    switches.append(Switch(management.switch, "management"))
    for s in switches:
        check_ifname(s.name)
    mgmt_net = ipaddress.ip_network(management.cidr)

    tunnel_ips = _tunnel_addresses(lab)
    hosts = []
    for number, (host_name, spec) in enumerate(lab.hosts.items(), 1):
        wires: list[Wire] = []
        mappings: dict[str, str] = {}
        tunnel_ip = None
        external = False

        mechanism = (spec.mechanism or lab.defaults.mechanism).value
        kernel = mechanism == "linuxbridge"

        def wire(switch: str, code: str, bridge: str | None) -> str:
            root_end = check_ifname(f"{lab_name}-{number}{code}")
            host_end = f"eth{len(wires) + 1}"
            wires.append(Wire(switch=switch, root_end=root_end, host_end=host_end, bridge=None if kernel else bridge))
            return host_end

        if spec.has_dataplane:
            for i, p in enumerate(physnets, 1):
                if spec.physical_networks is None or p in spec.physical_networks:
                    nic = wire(f"{lab_name}-sw-p{i}", f"p{i}", physnet_bridge(p))
                    mappings[p] = nic if kernel else physnet_bridge(p)
            if lab.tunnel_network:
                tunnel_ip = tunnel_ips[host_name]
                wire(f"{lab_name}-sw-tun", "t", TUNNEL_BRIDGE)
            external = spec.external if spec.external is not None else Role.network in spec.roles
            if external and lab.external_network:
                nic = wire(f"{lab_name}-sw-ext", "x", EXTERNAL_BRIDGE)
                mappings[lab.external_network.physical_network] = nic if kernel else EXTERNAL_BRIDGE
        datapath = (spec.datapath or lab.defaults.datapath).value
        if datapath == Datapath.auto.value:
            datapath = detected_datapath
        hosts.append(
            ResolvedHost(
                name=host_name,
                number=number,
                roles=tuple(r.value for r in spec.roles),
                netns=f"{lab_name}-{host_name}",
                prefix=f"{lab_name}-{host_name}-",
                ovs_dir=base / host_name / "ovs" if spec.has_dataplane and not kernel else None,
                datapath=datapath,
                wires=tuple(wires),
                bridge_mappings=mappings,
                tunnel_ip=tunnel_ip,
                external=external,
                management=Wire(switch=management.switch, root_end=check_ifname(f"{lab_name}-{number}m"),
                                host_end=MANAGEMENT_INTERFACE, bridge=None),
                management_ip=f"{mgmt_net.network_address + 1 + number}/{mgmt_net.prefixlen}",
                mechanism=mechanism if spec.has_dataplane else "openvswitch",
            )  # fmt: skip
        )

    outside = None
    if lab.external_network:
        net = ipaddress.ip_network(lab.external_network.cidr)
        addr = lab.external_network.outside or str(next(net.hosts()))
        outside = Outside(
            netns=f"{lab_name}-outside",
            interface="eth0",
            address=f"{addr}/{net.prefixlen}",
            wire=Wire(switch=f"{lab_name}-sw-ext", root_end=f"{lab_name}-out", host_end="eth0", bridge=None),
        )
    return ResolvedLab(
        name=lab_name,
        state_dir=base,
        mtu=lab.defaults.mtu,
        switches=tuple(switches),
        hosts=tuple(hosts),
        outside=outside,
        tunnel_cidr=lab.tunnel_network.cidr if lab.tunnel_network else None,
        external_cidr=lab.external_network.cidr if lab.external_network else None,
        external_physnet=lab.external_network.physical_network if lab.external_network else None,
        management=management,
        source=lab.model_dump(mode="json"),
        ovs_port_type=lab.defaults.ovs_port_type.value,
    )


def management_cidr(lab_name: str) -> str:
    """The default management range of lab ``lab_name``: one /22 of 100.64.0.0/10 by CRC32."""
    count = 2 ** (MANAGEMENT_PREFIX - MANAGEMENT_SPACE.prefixlen)
    index = zlib.crc32(lab_name.encode()) % count
    start = MANAGEMENT_SPACE.network_address + index * 2 ** (32 - MANAGEMENT_PREFIX)
    return f"{start}/{MANAGEMENT_PREFIX}"


def _management(lab: LabFile, lab_name: str) -> Management:
    cidr = lab.management_network.cidr or management_cidr(lab_name)
    net = ipaddress.ip_network(cidr)
    if net.num_addresses - 2 < len(lab.hosts) + 1:
        raise ValueError(f"management network {net} has too few addresses for the root namespace and {len(lab.hosts)} hosts")
    for other in (lab.tunnel_network, lab.external_network):
        if other is not None and net.overlaps(ipaddress.ip_network(other.cidr)):
            raise ValueError(f"management network {net} overlaps {other.cidr}: give management_network.cidr")
    return Management(switch=f"{lab_name}-sw-mgt", cidr=cidr, root_address=f"{net.network_address + 1}/{net.prefixlen}")


def _tunnel_addresses(lab: LabFile) -> dict[str, str]:
    """Given tunnel IPs as written; the others the lowest free host addresses, in host order."""
    if lab.tunnel_network is None:
        return {}
    net = ipaddress.ip_network(lab.tunnel_network.cidr)
    given = {n: h.tunnel_ip for n, h in lab.hosts.items() if h.has_dataplane and h.tunnel_ip}
    if len(set(given.values())) != len(given):
        raise ValueError("tunnel_ip values must be unique")
    taken = {ipaddress.ip_address(v) for v in given.values()}
    free = (a for a in net.hosts() if a not in taken)
    out = {}
    for n, h in lab.hosts.items():
        if not h.has_dataplane:
            continue
        if n in given:
            out[n] = f"{given[n]}/{net.prefixlen}"
            continue
        try:
            out[n] = f"{next(free)}/{net.prefixlen}"
        except StopIteration:
            raise ValueError(f"tunnel network {net} has too few addresses for the hosts") from None
    return out
