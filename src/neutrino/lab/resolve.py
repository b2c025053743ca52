"""Turn a lab file into every concrete name, address and wire, before touching the kernel.

Everything a lab creates is named from the lab's name (at most 8 characters), so that labs
coexist and ``down`` can find what a lab owns even when its record is lost:

* namespaces ``<lab>-<host>`` (hosts), ``<lab>-outside``, ``<lab>-vm-<name>`` (instances), and
  per-host namespaces prefixed ``<lab>-<host>-`` (``seed-network-qdhcp-<id>``);
* in the root namespace only the underlay: switches ``<lab>-sw-p<i>`` (physnet i),
  ``<lab>-sw-tun``, ``<lab>-sw-ext`` and the root ends of the wires ``<lab>-<n><p<i>|t|x>``
  (host number n), ``<lab>-out``; all at most 15 characters;
* state under ``/run/neutrino/lab/<lab>/`` (a host's OVS in ``<host>/ovs``).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
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

    @property
    def context(self) -> HostContext:
        return HostContext(name=self.name, netns=self.netns, ovs_dir=self.ovs_dir, prefix=self.prefix)

    @property
    def has_ovs(self) -> bool:
        return self.ovs_dir is not None

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
    source: dict[str, Any] = field(default_factory=dict, compare=False)

    def host(self, name: str) -> ResolvedHost:
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(f"lab {self.name} has no host {name!r} (hosts: {', '.join(h.name for h in self.hosts)})")

    def vm_namespace(self, vm: str) -> str:
        return vm_namespace(self.name, vm)

    def namespaces(self) -> list[str]:
        out = [h.netns for h in self.hosts]
        if self.outside:
            out.append(self.outside.netns)
        return out

    def root_links(self) -> list[str]:
        out = [s.name for s in self.switches]
        out += [w.root_end for h in self.hosts for w in h.wires]
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
    for s in switches:
        check_ifname(s.name)

    tunnel_ips = _tunnel_addresses(lab)
    hosts = []
    for number, (host_name, spec) in enumerate(lab.hosts.items(), 1):
        wires: list[Wire] = []
        mappings: dict[str, str] = {}
        tunnel_ip = None
        external = False

        def wire(switch: str, code: str, bridge: str | None) -> None:
            root_end = check_ifname(f"{lab_name}-{number}{code}")
            wires.append(Wire(switch=switch, root_end=root_end, host_end=f"eth{len(wires) + 1}", bridge=bridge))

        if spec.has_dataplane:
            for i, p in enumerate(physnets, 1):
                if spec.physical_networks is None or p in spec.physical_networks:
                    mappings[p] = physnet_bridge(p)
                    wire(f"{lab_name}-sw-p{i}", f"p{i}", mappings[p])
            if lab.tunnel_network:
                tunnel_ip = tunnel_ips[host_name]
                wire(f"{lab_name}-sw-tun", "t", TUNNEL_BRIDGE)
            external = spec.external if spec.external is not None else Role.network in spec.roles
            if external and lab.external_network:
                mappings[lab.external_network.physical_network] = EXTERNAL_BRIDGE
                wire(f"{lab_name}-sw-ext", "x", EXTERNAL_BRIDGE)
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
                ovs_dir=base / host_name / "ovs" if spec.has_dataplane else None,
                datapath=datapath,
                wires=tuple(wires),
                bridge_mappings=mappings,
                tunnel_ip=tunnel_ip,
                external=external,
            )
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
        source=lab.model_dump(mode="json"),
    )


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
