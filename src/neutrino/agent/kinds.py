"""The kinds of agent and what each reports as its ``configurations`` (Neutron's keys).

Shared by the real agents (``agent.runner``) and ``neutrino agent heartbeat``.
"""

from __future__ import annotations

from typing import Any

# --type → (agent_type, binary, topic, default availability zone), as Neutron's agents report
AGENT_KINDS: dict[str, tuple[str, str, str, str | None]] = {
    "ovs": ("Open vSwitch agent", "neutron-openvswitch-agent", "N/A", None),
    "linuxbridge": ("Linux bridge agent", "neutron-linuxbridge-agent", "N/A", None),
    "dhcp": ("DHCP agent", "neutron-dhcp-agent", "dhcp_agent", "nova"),
    "l3": ("L3 agent", "neutron-l3-agent", "l3_agent", "nova"),
}
L2_KINDS = ("ovs", "linuxbridge")



def configurations_for(
    kind: str,
    *,
    bridge_mappings: dict[str, str],
    tunnel_types: list[str],
    tunneling_ip: str | None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``configurations`` an agent of this kind reports (Neutron's keys), plus ``extra``."""
    if kind in L2_KINDS:
        conf: dict[str, Any] = {
            "bridge_mappings": bridge_mappings,
            "tunnel_types": tunnel_types,
            "devices": 0,
            "extensions": [],
            "l2_population": False,
        }
        if tunneling_ip:
            conf["tunneling_ip"] = tunneling_ip
        if kind == "ovs":
            conf.update(
                integration_bridge="br-int",
                datapath_type="system",
                ovs_hybrid_plug=False,
                arp_responder_enabled=False,
                enable_distributed_routing=False,
            )
        else:
            conf["interface_mappings"] = {}
    elif kind == "dhcp":
        conf = {
            "dhcp_driver": "neutron.agent.linux.dhcp.Dnsmasq",
            "dhcp_lease_duration": 86400,
            "log_agent_heartbeats": False,
            "networks": 0,
            "subnets": 0,
            "ports": 0,
        }
    else:
        conf = {
            "agent_mode": "legacy",
            "handle_internal_only_routers": True,
            "interface_driver": "openvswitch",
            "log_agent_heartbeats": False,
            "extensions": [],
            "routers": 0,
            "ex_gw_ports": 0,
            "interfaces": 0,
            "floating_ips": 0,
        }
    conf.update(extra or {})
    return conf
