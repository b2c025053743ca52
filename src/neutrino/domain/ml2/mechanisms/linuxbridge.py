"""``linuxbridge``: ports plug into a Linux bridge per network, wired by the Linux bridge agent.

The agent reaches physnets through ``interface_mappings`` (physnet -> NIC) or
``bridge_mappings`` (physnet -> existing bridge), and VXLAN through ``tunnel_types``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from neutrino.domain.ml2.api import TYPE_VLAN, VIF_TYPE_BRIDGE, PortContext, Segment
from neutrino.domain.ml2.mechanisms.agent import AgentMechanismDriver, configurations

AGENT_TYPE_LINUXBRIDGE = "Linux bridge agent"
LOG = logging.getLogger(__name__)


class LinuxbridgeMechanismDriver(AgentMechanismDriver):
    agent_type = AGENT_TYPE_LINUXBRIDGE
    vif_type = VIF_TYPE_BRIDGE

    def physnet_mappings(self, agent: Any) -> Mapping[str, Any]:
        conf = configurations(agent)
        return {**(conf.get("interface_mappings") or {}), **(conf.get("bridge_mappings") or {})}

    def can_bind_segment(self, agent: Any, segment: Segment) -> bool:
        """A VLAN segment needs a VLAN subinterface: an agent whose kernel has no 8021q reports
        ``vlan_subinterfaces: false`` and binds no VLAN segment (the port's binding fails)."""
        if segment.network_type == TYPE_VLAN and configurations(agent).get("vlan_subinterfaces") is False:
            host = agent.host if hasattr(agent, "host") else agent.get("host")
            LOG.warning("linuxbridge: the agent on %s cannot carry VLAN segment %s (no 8021q in its kernel)",
                        host, segment.segmentation_id)  # fmt: skip
            return False
        return super().can_bind_segment(agent, segment)

    def vif_details(self, agent: Any, context: PortContext) -> dict[str, Any]:
        return {"port_filter": True, "connectivity": "l2"}
