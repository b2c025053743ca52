"""What the topology page draws, as plain data: the server fills a ``TopologyState`` from the
database and the agents' reports (``domain/services/topology_state.py``); everything else works
from it, so the drawing is testable without a database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from neutrino.tools.trace.ofproto import parse_dpif

OVS_AGENT = "Open vSwitch agent"
L2_AGENT_TYPES = (OVS_AGENT, "Linux bridge agent")
DHCP_AGENT = "DHCP agent"
L3_AGENT = "L3 agent"
COMPUTE_PREFIX = "compute:"
ROUTER_INTERFACE_OWNERS = ("network:router_interface", "network:router_interface_distributed",
                           "network:ha_router_replicated_interface")  # fmt: skip
ROUTER_GATEWAY = "network:router_gateway"
DHCP_OWNER = "network:dhcp"
FLOATING_IP_OWNER = "network:floatingip"


@dataclass(frozen=True)
class Segment:
    network_type: str
    physical_network: str | None = None
    segmentation_id: int | None = None

    def label(self) -> str:
        text = self.network_type
        if self.segmentation_id is not None:
            text += f" {self.segmentation_id}"
        if self.physical_network:
            text += f" ({self.physical_network})"
        return text


@dataclass(frozen=True)
class Network:
    id: str
    name: str
    status: str = "ACTIVE"
    admin_state_up: bool = True
    external: bool = False
    shared: bool = False
    segments: tuple[Segment, ...] = ()


@dataclass(frozen=True)
class Subnet:
    id: str
    name: str
    network_id: str
    cidr: str
    gateway_ip: str | None = None


@dataclass(frozen=True)
class Port:
    id: str
    name: str
    network_id: str
    device_owner: str = ""
    device_id: str = ""
    status: str = "DOWN"
    admin_state_up: bool = True
    host: str = ""
    mac_address: str = ""
    fixed_ips: tuple[tuple[str, str], ...] = ()
    """(subnet id, address) pairs."""

    @property
    def is_compute(self) -> bool:
        return self.device_owner.startswith(COMPUTE_PREFIX)

    @property
    def is_router(self) -> bool:
        return self.device_owner in ROUTER_INTERFACE_OWNERS or self.device_owner == ROUTER_GATEWAY

    def addresses(self) -> str:
        return ", ".join(ip for _, ip in self.fixed_ips)


@dataclass(frozen=True)
class Router:
    id: str
    name: str
    status: str = "ACTIVE"
    admin_state_up: bool = True
    hosts: tuple[str, ...] = ()
    """The hosts of the L3 agents it is scheduled to (its qrouter- namespace lives there)."""
    enable_snat: bool = True


@dataclass(frozen=True)
class FloatingIP:
    id: str
    address: str
    network_id: str
    port_id: str | None = None
    fixed_ip: str | None = None
    router_id: str | None = None
    status: str = "DOWN"


@dataclass(frozen=True)
class Agent:
    host: str
    agent_type: str
    alive: bool
    heartbeat_age: float
    """Seconds since its last state report."""
    admin_state_up: bool = True
    configurations: dict[str, Any] = field(default_factory=dict)

    @property
    def is_l2(self) -> bool:
        return self.agent_type in L2_AGENT_TYPES


@dataclass(frozen=True)
class Drift:
    """One difference an audit found on a host between the desired state and the dataplane."""

    host: str
    what: str
    detail: str = ""


@dataclass(frozen=True)
class LivePort:
    """A port of an Open vSwitch bridge as the host's ``ovs-appctl dpif/show`` lists it."""

    bridge: str
    name: str
    type: str = ""


@dataclass(frozen=True)
class TopologyState:
    networks: tuple[Network, ...] = ()
    subnets: tuple[Subnet, ...] = ()
    ports: tuple[Port, ...] = ()
    routers: tuple[Router, ...] = ()
    floating_ips: tuple[FloatingIP, ...] = ()
    agents: tuple[Agent, ...] = ()
    dhcp_hosts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """network id -> the hosts of the DHCP agents serving it (a qdhcp- namespace on each)."""
    drift: tuple[Drift, ...] | None = None
    """What the audit reports; None when no audit is available (the page then says so)."""
    drift_error: str = ""
    live: dict[str, tuple[LivePort, ...]] = field(default_factory=dict)
    """host -> its bridges' ports as its agent reported them just now (``dpif/show``)."""
    live_errors: dict[str, str] = field(default_factory=dict)
    """host -> why its live state is not known (agent down, no answer)."""
    agent_down_time: int = 75

    def hosts(self) -> list[str]:
        """Every host with an agent, or with a port bound to it, sorted."""
        return sorted({a.host for a in self.agents} | {p.host for p in self.ports if p.host})

    def l2_agent(self, host: str) -> Agent | None:
        return next((a for a in self.agents if a.host == host and a.is_l2), None)

    def bridge_mappings(self, host: str) -> dict[str, str]:
        agent = self.l2_agent(host)
        found = (agent.configurations if agent else {}).get("bridge_mappings") or {}
        return {str(k): str(v) for k, v in sorted(found.items())}

    def tunnel_ip(self, host: str) -> str | None:
        agent = self.l2_agent(host)
        ip = (agent.configurations if agent else {}).get("tunneling_ip")
        return str(ip) if ip else None

    def tunnel_types(self, host: str) -> tuple[str, ...]:
        agent = self.l2_agent(host)
        return tuple(str(t) for t in (agent.configurations if agent else {}).get("tunnel_types") or ())

    def network(self, network_id: str) -> Network | None:
        return next((n for n in self.networks if n.id == network_id), None)

    def instances(self) -> dict[str, list[Port]]:
        """device_id -> its compute ports: an instance is the ports one device owns."""
        out: dict[str, list[Port]] = {}
        for p in sorted(self.ports, key=lambda p: (p.device_id, p.name, p.id)):
            if p.is_compute and p.device_id:
                out.setdefault(p.device_id, []).append(p)
        return out


def drift_from_answers(answers: dict[str, Any]) -> tuple[Drift, ...]:
    """Agents' audit answers (host -> ``{"drift": [{"kind", "object", "expected", "actual"}, ...]}``,
    or ``{"error": why}``) -> the page's drift list; a host that did not answer says why.
    Tolerant of fields it does not know: it shows what it finds."""
    out: list[Drift] = []
    for host, answer in sorted(answers.items()):
        if not isinstance(answer, dict):
            continue
        if answer.get("error"):
            out.append(Drift(host, "audit not answered", str(answer["error"])))
            continue
        for d in answer.get("remaining", answer.get("drift")) or ():
            if isinstance(d, dict):
                what = " ".join(str(d[k]) for k in ("kind", "object") if d.get(k))
                detail = f"expected {d.get('expected', '?')}, found {d.get('actual', '?')}" if "expected" in d else ""
                out.append(Drift(host, what or "drift", detail))
            else:
                out.append(Drift(host, str(d)))
    return tuple(out)


def live_from_answers(answers: dict[str, Any]) -> tuple[dict[str, tuple[LivePort, ...]], dict[str, str]]:
    """Agents' answers to a trace request with no probes (host -> ``{"dpif": text}`` or
    ``{"error": why}``) -> (host -> the ports ``dpif/show`` lists, host -> why none)."""
    live: dict[str, tuple[LivePort, ...]] = {}
    errors: dict[str, str] = {}
    for host, answer in sorted(answers.items()):
        if not isinstance(answer, dict) or answer.get("error") or "dpif" not in answer:
            errors[host] = str(answer.get("error") if isinstance(answer, dict) else answer) or "no answer"
            continue
        live[host] = tuple(LivePort(p.bridge, p.name, p.type) for p in parse_dpif(str(answer["dpif"])))
    return live, errors
