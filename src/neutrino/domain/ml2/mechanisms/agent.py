"""Mechanism drivers that bind through an L2 agent on the port's host (Neutron's
SimpleAgentMechanismDriverBase): a port binds to the first segment that a live agent of the
driver's type on that host can reach, physnets through its mappings and tunnels through its
``tunnel_types``. A dead agent (no heartbeat within agent_down_time) binds nothing."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from neutrino.domain.ml2.api import (
    TYPE_FLAT,
    TYPE_LOCAL,
    TYPE_VLAN,
    VNIC_NORMAL,
    MechanismDriver,
    PortContext,
    Segment,
)

PHYSNET_TYPES = (TYPE_FLAT, TYPE_VLAN)


def configurations(agent: Any) -> Mapping[str, Any]:
    conf = agent.configurations if hasattr(agent, "configurations") else agent.get("configurations")
    return conf or {}


class AgentMechanismDriver(MechanismDriver):
    agent_type: ClassVar[str]
    vif_type: ClassVar[str]
    supported_vnic_types: ClassVar[tuple[str, ...]] = (VNIC_NORMAL,)

    def physnet_mappings(self, agent: Any) -> Mapping[str, Any]:
        return configurations(agent).get("bridge_mappings") or {}

    def allowed_network_types(self, agent: Any) -> list[str]:
        return list(configurations(agent).get("tunnel_types") or []) + [TYPE_LOCAL, TYPE_FLAT, TYPE_VLAN]

    def can_bind_segment(self, agent: Any, segment: Segment) -> bool:
        if segment.network_type not in self.allowed_network_types(agent):
            return False
        if segment.network_type in PHYSNET_TYPES:
            return segment.physical_network in self.physnet_mappings(agent)
        return True

    @abstractmethod
    def vif_details(self, agent: Any, context: PortContext) -> dict[str, Any]:
        """What the compute side needs to plug the port (for the agent that will wire it)."""

    def bind_port(self, context: PortContext) -> None:
        if context.vnic_type not in self.supported_vnic_types:
            return
        for agent in context.host_agents(self.agent_type):
            for segment in context.segments_to_bind:
                if self.can_bind_segment(agent, segment):
                    context.set_binding(segment.id, self.vif_type, self.vif_details(agent, context))
                    return
