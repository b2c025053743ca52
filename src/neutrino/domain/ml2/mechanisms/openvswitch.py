"""``openvswitch``: ports plug into the host's integration bridge, wired by the OVS agent.

vif_details as Neutron's OVS driver gives them for a normal port: the firewall filters the
port, hybrid plugging (tap -> qbr Linux bridge -> qvb/qvo veth -> br-int, for iptables
security groups) unless the agent says otherwise, the agent's datapath type and bridge. The
vif type stays ``ovs`` for the userspace (netdev) datapath too: neutrino's agents plug tap
and veth devices there, not vhost-user sockets.
"""

from __future__ import annotations

from typing import Any

from neutrino.domain.ml2.api import VIF_TYPE_OVS, PortContext
from neutrino.domain.ml2.mechanisms.agent import AgentMechanismDriver, configurations

AGENT_TYPE_OVS = "Open vSwitch agent"


class OpenvswitchMechanismDriver(AgentMechanismDriver):
    agent_type = AGENT_TYPE_OVS
    vif_type = VIF_TYPE_OVS

    def vif_details(self, agent: Any, context: PortContext) -> dict[str, Any]:
        conf = configurations(agent)
        return {
            "port_filter": True,
            "connectivity": "l2",
            "ovs_hybrid_plug": bool(conf.get("ovs_hybrid_plug", True)),
            "datapath_type": conf.get("datapath_type") or "system",
            "bridge_name": conf.get("integration_bridge") or "br-int",
        }
