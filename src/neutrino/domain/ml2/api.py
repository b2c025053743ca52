"""The ML2 driver contract: what a type driver and a mechanism driver implement.

Type drivers own a network type (local, flat, vlan, vxlan, geneve): they validate provider
segments, allocate and release segmentation ids and know the MTU of their segments.
Mechanism drivers make segments real on hosts: they see every network and port change
(``*_precommit`` inside the database transaction, which an error rolls back; ``*_postcommit``
after the commit) and bind ports to a host (``bind_port``). Both are found through Python entry
points (see manager.py), so a third party adds a driver by installing a package.

The contexts hand a driver what it needs without exposing how the core stores it: plain dicts
of the API attributes, the network's segments, the session (drivers may read and write in the
same transaction) and the configuration.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from neutrino.domain.config import DomainConfig

# network types and vif types (neutron-lib's names)
TYPE_LOCAL, TYPE_FLAT, TYPE_VLAN, TYPE_VXLAN, TYPE_GENEVE = "local", "flat", "vlan", "vxlan", "geneve"
VIF_TYPE_UNBOUND = "unbound"
VIF_TYPE_BINDING_FAILED = "binding_failed"
VIF_TYPE_OVS = "ovs"
VIF_TYPE_BRIDGE = "bridge"
VNIC_NORMAL = "normal"
VNIC_TYPES = (
    "normal", "direct", "macvtap", "baremetal", "direct-physical", "virtio-forwarder", "smart-nic",
    "vdpa", "accelerator-direct", "accelerator-direct-physical", "remote-managed",
)  # fmt: skip
MAX_BINDING_LEVELS = 10


@dataclass(frozen=True)
class Segment:
    """One L2 segment of a network. ``id`` is set once it is stored."""

    network_type: str
    physical_network: str | None = None
    segmentation_id: int | None = None
    id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "network_type": self.network_type,
            "physical_network": self.physical_network,
            "segmentation_id": self.segmentation_id,
        }


class TypeDriver(ABC):
    """A network type. Instantiated once per configuration with the domain settings."""

    network_type: str = ""

    def __init__(self, cfg: DomainConfig) -> None:
        self.cfg = cfg

    def is_partial_segment(self, segment: Segment) -> bool:
        """True if reserving it still has to choose something (e.g. a VLAN id)."""
        return False

    @abstractmethod
    def validate_provider_segment(self, segment: Segment) -> None:
        """Raise InvalidInput if an admin's segment is not valid for this type."""

    @abstractmethod
    def reserve_provider_segment(self, session: Session, segment: Segment, project_id: str | None = None) -> Segment:
        """Reserve a validated provider segment (completing a partial one, from the project's
        segment ranges first) or raise (VlanIdInUse, TunnelIdInUse, FlatNetworkInUse,
        NoNetworkAvailable)."""

    @abstractmethod
    def allocate_tenant_segment(self, session: Session, project_id: str | None = None) -> Segment | None:
        """A free segment for a project network (from the project's segment ranges first), or
        None if this type has none left."""

    @abstractmethod
    def release_segment(self, session: Session, segment: Segment) -> None:
        """Give a segment back when its network is deleted."""

    @abstractmethod
    def get_mtu(self, physical_network: str | None = None) -> int:
        """The MTU of a segment of this type (0: no constraint)."""

    def sync_allocations(self, session: Session) -> None:
        """Make the allocation table match the configured ranges (server start)."""
        return None


@dataclass
class NetworkContext:
    """A network as drivers see it. ``original`` is the state before an update."""

    current: dict[str, Any]
    network_segments: list[Segment]
    session: Session
    cfg: DomainConfig
    original: dict[str, Any] | None = None


@dataclass
class Binding:
    """A completed binding decision: the vif and the driver/segment of each level."""

    vif_type: str
    vif_details: dict[str, Any]
    levels: list[tuple[str, str | None]] = field(default_factory=list)
    """(driver name, segment id) per level, level 0 first."""


@dataclass
class PortContext:
    """A port as drivers see it, and the binding protocol of bind_port.

    During ``bind_port`` a driver looks at ``segments_to_bind`` and either calls
    ``set_binding`` (done) or ``continue_binding`` (hierarchical: the next level binds the
    segments it names), or leaves it for the next driver.
    """

    current: dict[str, Any]
    network: NetworkContext
    session: Session
    cfg: DomainConfig
    original: dict[str, Any] | None = None
    agent_lookup: Callable[[str, str], list[Any]] | None = None
    segments_to_bind: list[Segment] = field(default_factory=list)
    binding_levels: list[tuple[str, str | None]] = field(default_factory=list)
    _result: tuple[str, Any, Any] | None = None
    _driver: str = ""

    @property
    def host(self) -> str:
        return str(self.current.get("binding:host_id") or "")

    @property
    def vnic_type(self) -> str:
        return str(self.current.get("binding:vnic_type") or VNIC_NORMAL)

    @property
    def profile(self) -> dict[str, Any]:
        return dict(self.current.get("binding:profile") or {})

    def host_agents(self, agent_type: str) -> list[Any]:
        """The live agents of ``agent_type`` on the port's host (dead ones are left out)."""
        if self.agent_lookup is None or not self.host:
            return []
        return self.agent_lookup(self.host, agent_type)

    def _segment(self, segment_id: str | None) -> Segment:
        for seg in self.segments_to_bind:
            if seg.id == segment_id:
                return seg
        raise ValueError(f"segment {segment_id} is not among the segments to bind")

    def set_binding(self, segment_id: str | None, vif_type: str, vif_details: dict[str, Any]) -> None:
        self._segment(segment_id)
        self._result = ("bound", segment_id, (vif_type, dict(vif_details)))

    def continue_binding(self, segment_id: str | None, next_segments: list[Segment]) -> None:
        self._segment(segment_id)
        if not next_segments:
            raise ValueError("continue_binding needs the segments of the next level")
        self._result = ("continue", segment_id, list(next_segments))


class MechanismDriver(ABC):
    """Implements networks on hosts. Every hook has a no-op default except ``bind_port``."""

    name: str = ""

    def __init__(self, cfg: DomainConfig) -> None:
        self.cfg = cfg

    def initialize(self) -> None:
        return None

    def create_network_precommit(self, context: NetworkContext) -> None: ...
    def create_network_postcommit(self, context: NetworkContext) -> None: ...
    def update_network_precommit(self, context: NetworkContext) -> None: ...
    def update_network_postcommit(self, context: NetworkContext) -> None: ...
    def delete_network_precommit(self, context: NetworkContext) -> None: ...
    def delete_network_postcommit(self, context: NetworkContext) -> None: ...
    def create_port_precommit(self, context: PortContext) -> None: ...
    def create_port_postcommit(self, context: PortContext) -> None: ...
    def update_port_precommit(self, context: PortContext) -> None: ...
    def update_port_postcommit(self, context: PortContext) -> None: ...
    def delete_port_precommit(self, context: PortContext) -> None: ...
    def delete_port_postcommit(self, context: PortContext) -> None: ...

    @abstractmethod
    def bind_port(self, context: PortContext) -> None:
        """Bind ``context`` if this driver can (see PortContext); else return untouched."""


HOOKS = tuple(
    f"{op}_{res}_{phase}"
    for res in ("network", "port")
    for op in ("create", "update", "delete")
    for phase in ("precommit", "postcommit")
)
