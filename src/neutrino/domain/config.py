"""The settings that change the domain's behaviour, defined once.

``ServerSettings`` (``neutrino.config``) inherits these fields, so a setting has one name, one
type and one default; the server then hands the domain a ``DomainConfig`` holding only them
(``DomainConfig.of(settings)``). This module imports nothing else of neutrino, so every part of
the domain can read its settings without import cycles.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_QUOTAS: dict[str, int] = {
    "network": 100,
    "subnet": 100,
    "port": 500,
    "router": 10,
    "floatingip": 50,
    "security_group": 10,
    "security_group_rule": 100,
    "rbac_policy": 10,
    "subnetpool": -1,
    "router_route": 30,
}


class DomainConfig(BaseModel):
    """Settings the domain reads (Neutron's option names). Frozen: shared by every request."""

    model_config = ConfigDict(frozen=True)

    quotas: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_QUOTAS),
        description="default limit per resource; -1 is unlimited (per-project limits override)",
    )
    base_mac: str = "fa:16:3e:00:00:00"
    global_physnet_mtu: int = 1500
    max_dns_nameservers: int = 5
    max_subnet_host_routes: int = 20

    # ML2 (Neutron's [ml2] and [ml2_type_*] options; TOML sections of those names also work)
    type_drivers: tuple[str, ...] = ("local", "flat", "vlan", "vxlan", "geneve")
    tenant_network_types: tuple[str, ...] = ("local",)
    mechanism_drivers: tuple[str, ...] = ("openvswitch",)
    extension_drivers: tuple[str, ...] = ()
    flat_networks: tuple[str, ...] = ("*",)
    network_vlan_ranges: tuple[str, ...] = Field(default=(), description="physnet[:min:max]")
    vni_ranges: tuple[str, ...] = Field(default=(), description="VXLAN min:max")
    geneve_vni_ranges: tuple[str, ...] = Field(default=(), description="Geneve min:max")
    geneve_max_header_size: int = 30
    path_mtu: int = 0
    physical_network_mtus: dict[str, int] = Field(default_factory=dict)

    # agents and scheduling
    agent_down_time: int = 75
    enable_new_agents: bool = True
    dhcp_agents_per_network: int = 1
    network_auto_schedule: bool = True
    allow_automatic_dhcp_failover: bool = True
    router_auto_schedule: bool = True
    allow_automatic_l3agent_failover: bool = False

    # L3 HA (Neutron's l3_ha options): the default of a new router's ``ha``, how many L3 agents
    # an HA router is scheduled to, and the CIDR of every project's HA network
    l3_ha: bool = False
    max_l3_agents_per_router: int = 3
    l3_ha_net_cidr: str = "169.254.192.0/18"

    # DNS (Neutron's [DEFAULT] dns_domain): the domain of ports' names; under the default a
    # port's dns_name is not honoured (domain/dns_names.py)
    dns_domain: str = "openstacklocal"

    # L3 and ports
    max_routes: int = 30
    max_allowed_address_pair: int = 10

    @classmethod
    def of(cls, settings: Any) -> DomainConfig:
        """Only the domain's fields of ``settings`` (an object carrying them, such as
        ``ServerSettings``); per-resource quotas given there are merged over the defaults."""
        values = {name: getattr(settings, name) for name in DomainConfig.model_fields}
        values["quotas"] = {**DEFAULT_QUOTAS, **values["quotas"]}
        return DomainConfig(**values)
