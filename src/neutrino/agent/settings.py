"""What an agent process is told about its host: roles, bridge mappings, intervals and the
switches of its optional features. Read from agent.toml (agent/config.py) or given by the lab;
kept apart from the runner so that the settings can grow without the runner growing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from neutrino.agent.config import firewall_driver_of, hybrid_plug_required
from neutrino.agent.metadata.proxies import MetadataSettings


@dataclass
class AgentSettings:
    roles: tuple[str, ...] = ("l2",)
    bridge_mappings: dict[str, str] = field(default_factory=dict)
    tunnel_types: list[str] = field(default_factory=list)
    tunneling_ip: str | None = None
    datapath_type: str = "netdev"
    userspace_tso_ports: bool = False
    """Instances on flat and VLAN networks may hand OVS offloaded TCP (agent/config.py says when)."""
    report_interval: float = 30.0
    resync_interval: float = 60.0
    idle_check: float = 2.0
    firewall: bool = True
    firewall_driver: str = "iptables_hybrid"
    """agent/config.py, ``FIREWALL_DRIVERS`` (``firewall`` False: noop whatever this says)."""
    state_dir: Path | None = None
    """Where the DHCP role keeps dnsmasq's files (one directory per network)."""
    mechanism: str = "openvswitch"
    interface_mappings: dict[str, str] = field(default_factory=dict)
    """linuxbridge: physnet -> uplink interface."""
    arp_proxy: bool = True
    arp_responder: bool = True
    """OVS: answer ARP for remote ports on br-tun (docs/dataplane.md, "ARP responder")."""
    availability_zone: str = "nova"
    """Reported by the DHCP and L3 roles (the L2 agents report none, as Neutron's)."""
    dhcp_lease_duration: int = 86400
    metadata: MetadataSettings = field(default_factory=MetadataSettings)
    audit_interval: float = 60.0
    """Seconds between audits of this host's dataplane (docs/audit.md); 0: none."""
    audit_repair: bool = True
    """Repair the drift a periodic audit finds (docs/audit.md says why this is the default)."""
    ha_vrrp_advert_int: float = 2
    """Seconds between VRRP adverts of HA routers (Neutron's default 2); a standby takes over
    after about three missed ones."""
    ha_state_poll: float = 0.2
    """How often the L3 role looks at its keepalived state files, to report a change at once."""

    @property
    def driver(self) -> str:
        """The firewall driver in effect."""
        return firewall_driver_of(self.firewall, self.firewall_driver)

    @property
    def ovs_hybrid_plug(self) -> bool:
        """Instances need the hybrid plug only where the firewall filters on their qbr
        (agent/config.py, ``AgentConfig.ovs_hybrid_plug``)."""
        return hybrid_plug_required(self.driver)
