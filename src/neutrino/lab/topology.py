"""The lab file: hosts with roles, physical networks, the tunnel and external networks.

Pure data, validated by pydantic; ``schema.json`` beside this module is its published JSON
schema (``neutrino lab schema`` prints it; editors use it). Values resolve host → defaults.
The default lab is the seed's: a controller, a network node and two computes, physnet1 for
VLANs, one tunnel network and one external network with an ``outside`` host.
"""

from __future__ import annotations

import ipaddress
import re
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

LAB_NAME = re.compile(r"^[a-z][a-z0-9]{0,7}$")
HOST_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
PHYSNET_NAME = re.compile(r"^[a-z][a-z0-9_]{0,11}$")
MAX_HOSTS = 999
MAX_PHYSNETS = 99


class Role(str, Enum):
    controller = "controller"
    network = "network"
    compute = "compute"


class Datapath(str, Enum):
    auto = "auto"
    netdev = "netdev"
    system = "system"


class OvsPortType(str, Enum):
    system = "system"
    afxdp = "afxdp"


class Mechanism(str, Enum):
    openvswitch = "openvswitch"
    linuxbridge = "linuxbridge"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Defaults(_Strict):
    datapath: Datapath = Field(Datapath.auto, description="OVS datapath: auto detects the kernel module")
    mtu: Annotated[int, Field(ge=1280, le=9000)] = Field(1500, description="MTU of the underlay links")
    mechanism: Mechanism = Field(Mechanism.openvswitch, description="how hosts switch: Open vSwitch or Linux bridges")
    ovs_port_type: OvsPortType = Field(
        OvsPortType.system,
        description="how vswitchd reads the instances' ports and the wires on the userspace datapath: AF_PACKET "
        "(system) or AF_XDP where vswitchd has it and the port carries no offloaded packets",
    )


class PhysicalNetwork(_Strict):
    name: str = Field(description="physnet name as in bridge_mappings (bridge br-<name>)")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not PHYSNET_NAME.match(v):
            raise ValueError("1-12 characters: a lowercase letter, then letters, digits or '_'")
        return v


class TunnelNetwork(_Strict):
    cidr: str = Field("172.31.0.0/24", description="IPv4 network of the hosts' tunnel endpoints")

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        return str(_ipv4_network(v))


class ExternalNetwork(_Strict):
    cidr: str = Field("198.51.100.0/24", description="the external (provider) network's IPv4 CIDR")
    physical_network: str = Field("extnet", description="physnet of the external network, on br-ex")
    outside: str | None = Field(None, description="address of the outside host (default: first address)")

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        return str(_ipv4_network(v))

    @model_validator(mode="after")
    def _outside(self) -> ExternalNetwork:
        if self.outside is not None:
            net = ipaddress.ip_network(self.cidr)
            addr = ipaddress.ip_address(self.outside)
            if addr not in net or addr in (net.network_address, net.broadcast_address):
                raise ValueError(f"outside address {self.outside} is not a host address of {self.cidr}")
        return self


class ManagementNetwork(_Strict):
    cidr: str | None = Field(
        None,
        description="IPv4 network wiring every host and the root namespace (the API, the agents' "
        "bus); default: a /22 of 100.64.0.0/10 chosen from the lab name, so labs differ",
    )

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str | None) -> str | None:
        return None if v is None else str(_ipv4_network(v))


class Host(_Strict):
    roles: list[Role] = Field(min_length=1, description="controller, network and/or compute")
    physical_networks: list[str] | None = Field(
        None, description="physnets wired to this host (default: all for network and compute hosts)"
    )
    tunnel_ip: str | None = Field(None, description="tunnel endpoint address (default: allocated in order)")
    external: bool | None = Field(None, description="wired to the external network (default: network hosts)")
    datapath: Datapath | None = None
    mechanism: Mechanism | None = Field(None, description="this host's switching (default: defaults.mechanism)")
    agents: dict[str, Any] = Field(
        default_factory=dict,
        description="settings of this host's agents over the lab's agents: (firewall: false runs Neutron's "
        "noop firewall driver on this host only, say)",
    )

    @property
    def has_dataplane(self) -> bool:
        """Network and compute hosts run Open vSwitch; a controller-only host runs none."""
        return Role.network in self.roles or Role.compute in self.roles


class LabFile(_Strict):
    name: str = Field("seed", description="1-8 characters, a-z then a-z0-9; prefixes everything the lab creates")
    defaults: Defaults = Defaults()
    physical_networks: list[PhysicalNetwork] = Field(default_factory=lambda: [PhysicalNetwork(name="physnet1")])
    tunnel_network: TunnelNetwork | None = TunnelNetwork()
    external_network: ExternalNetwork | None = ExternalNetwork()
    management_network: ManagementNetwork = ManagementNetwork()
    hosts: dict[str, Host] = Field(min_length=1)
    server: dict[str, Any] = Field(
        default_factory=dict,
        description="settings of the lab's server over the lab's own (server settings' names: l3_ha, "
        "dhcp_agents_per_network, ...)",
    )
    agents: dict[str, Any] = Field(
        default_factory=dict,
        description="settings of every agent of the lab over the lab's own (agent settings' names: "
        "ha_vrrp_advert_int, report_interval, ...)",
    )

    @field_validator("name")
    @classmethod
    def _lab_name(cls, v: str) -> str:
        check_lab_name(v)
        return v

    @model_validator(mode="after")
    def _consistent(self) -> LabFile:
        if len(self.hosts) > MAX_HOSTS:
            raise ValueError(f"at most {MAX_HOSTS} hosts")
        names = [p.name for p in self.physical_networks]
        if len(set(names)) != len(names):
            raise ValueError("physical network names must be unique")
        if len(names) > MAX_PHYSNETS:
            raise ValueError(f"at most {MAX_PHYSNETS} physical networks")
        if self.external_network and self.external_network.physical_network in names:
            raise ValueError("the external network's physical_network must differ from the VLAN physnets")
        for host_name, host in self.hosts.items():
            if not HOST_NAME.match(host_name):
                raise ValueError(f"host name {host_name!r}: 1-31 characters, a-z then a-z0-9 and '-'")
            unknown = set(host.physical_networks or ()) - set(names)
            if unknown:
                raise ValueError(f"host {host_name}: unknown physical network(s) {', '.join(sorted(unknown))}")
            if not host.has_dataplane and (host.physical_networks or host.tunnel_ip or host.external):
                raise ValueError(f"host {host_name}: only network and compute hosts carry a dataplane")
            if host.tunnel_ip is not None:
                if self.tunnel_network is None:
                    raise ValueError(f"host {host_name}: tunnel_ip given but the lab has no tunnel_network")
                if ipaddress.ip_address(host.tunnel_ip) not in ipaddress.ip_network(self.tunnel_network.cidr):
                    raise ValueError(f"host {host_name}: tunnel_ip {host.tunnel_ip} not in {self.tunnel_network.cidr}")
            if host.agents and not host.has_dataplane:
                raise ValueError(f"host {host_name}: agents settings on a host that runs no agent")
            if host.external and self.external_network is None:
                raise ValueError(f"host {host_name}: external is set but the lab has no external_network")
        return self


def check_lab_name(name: str) -> str:
    if not LAB_NAME.match(name):
        raise ValueError(f"lab name {name!r}: 1-8 characters, a lowercase letter then letters or digits")
    return name


def _ipv4_network(v: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(v, strict=True)
    except ValueError as exc:
        raise ValueError(f"{v!r} is not a network CIDR: {exc}") from exc
    if net.version != 4 or net.prefixlen > 29:
        raise ValueError(f"{v}: an IPv4 network of at most /29 is needed")
    return net  # type: ignore[return-value]


class LabFileError(ValueError):
    """The lab file cannot be read or is invalid; the message lists every problem."""


def parse(data: Any, source: str = "lab file") -> LabFile:
    try:
        return LabFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top)"
            problems.append(f"  {where}: {err['msg']}")
        raise LabFileError(f"{source} is invalid:\n" + "\n".join(problems)) from None


def load(path: Path) -> LabFile:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise LabFileError(f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise LabFileError(f"{path} is not YAML: {exc}") from exc
    return parse(data, str(path))


def default_lab() -> LabFile:
    """The seed's cloud."""
    return LabFile(
        hosts={
            "controller": Host(roles=[Role.controller]),
            "network": Host(roles=[Role.network]),
            "compute1": Host(roles=[Role.compute]),
            "compute2": Host(roles=[Role.compute]),
        }
    )


def json_schema() -> dict[str, Any]:
    schema = LabFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "neutrino lab file"
    return schema
