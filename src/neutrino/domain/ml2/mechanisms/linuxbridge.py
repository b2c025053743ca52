"""``linuxbridge``: ports plug into a Linux bridge per network, wired by the Linux bridge agent.

The agent reaches physnets through ``interface_mappings`` (physnet -> NIC) or
``bridge_mappings`` (physnet -> existing bridge), and VXLAN through ``tunnel_types``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from neutrino.domain.ml2.api import VIF_TYPE_BRIDGE, PortContext
from neutrino.domain.ml2.mechanisms.agent import AgentMechanismDriver, configurations

AGENT_TYPE_LINUXBRIDGE = "Linux bridge agent"


class LinuxbridgeMechanismDriver(AgentMechanismDriver):
    agent_type = AGENT_TYPE_LINUXBRIDGE
    vif_type = VIF_TYPE_BRIDGE

    def physnet_mappings(self, agent: Any) -> Mapping[str, Any]:
        conf = configurations(agent)
        return {**(conf.get("interface_mappings") or {}), **(conf.get("bridge_mappings") or {})}

    def vif_details(self, agent: Any, context: PortContext) -> dict[str, Any]:
        return {"port_filter": True, "connectivity": "l2"}
