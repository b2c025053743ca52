"""Attribute maps: what each resource accepts on POST and PUT, its defaults and validators.

This is Neutron's RESOURCE_ATTRIBUTE_MAP idea kept as data: the request parser, the list
filters and the served OpenAPI document are all derived from it, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from neutrino.api import validators
from neutrino.api.l3_validators import validate_external_gateway_info
from neutrino.domain import dns_names
from neutrino.domain.ml2.api import VNIC_TYPES
from neutrino.domain.secgroups import protocols as sg_protocols
from neutrino.domain.secgroups import rules as sg_rules


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


REQUIRED = _Sentinel("REQUIRED")
NOT_SPECIFIED = _Sentinel("NOT_SPECIFIED")

Validator = Callable[..., str | None]


@dataclass(frozen=True)
class Attr:
    name: str
    post: bool = False
    put: bool = False
    default: Any = NOT_SPECIFIED
    convert: Callable[[Any], Any] | None = None
    validate: Validator | None = None
    validate_arg: Any = None
    filter: bool = True
    sort: bool = True
    visible: bool = True
    json_type: str = "string"
    """JSON-schema type for the served OpenAPI document."""


@dataclass(frozen=True)
class ResourceSpec:
    singular: str
    collection: str
    path: str
    attrs: dict[str, Attr]
    tag_type: str = field(default="")
    allow_bulk: bool = True

    @property
    def collection_key(self) -> str:
        return self.collection

    def filterable(self) -> set[str]:
        return {a.name for a in self.attrs.values() if a.filter}

    def sortable(self) -> set[str]:
        return {a.name for a in self.attrs.values() if a.sort}


def _spec(singular: str, collection: str, path: str, *attrs: Attr) -> ResourceSpec:
    return ResourceSpec(singular, collection, path, {a.name: a for a in attrs}, tag_type=singular)


def _name() -> Attr:
    return Attr("name", post=True, put=True, default="", validate=validators.validate_string, validate_arg=255)


def _standard() -> tuple[Attr, ...]:
    return (
        Attr("id", validate=validators.validate_uuid),
        Attr("project_id", post=True, validate=validators.validate_string, validate_arg=255),
        Attr("tenant_id", post=True, validate=validators.validate_string, validate_arg=255),
        Attr("description", post=True, put=True, default="", validate=validators.validate_string, validate_arg=255),
        Attr("created_at", filter=False),
        Attr("updated_at", filter=False),
        Attr("revision_number", convert=validators.convert_to_int, json_type="integer"),
        Attr("tags", filter=False, sort=False, json_type="array"),
    )


def _bool(name: str, default: Any = NOT_SPECIFIED, post: bool = True, put: bool = True) -> Attr:
    return Attr(name, post=post, put=put, default=default, convert=validators.convert_to_boolean, json_type="boolean")


def _az_attrs() -> tuple[Attr, ...]:
    """network_availability_zone / router_availability_zone: hints on POST only, as Neutron."""
    return (
        Attr("availability_zone_hints", post=True, filter=False, sort=False, json_type="array"),
        Attr("availability_zones", filter=False, sort=False, json_type="array"),
    )


NETWORK = _spec(
    "network",
    "networks",
    "networks",
    *_standard(),
    _name(),
    _bool("admin_state_up", True),
    Attr("status", validate=validators.validate_string, validate_arg=16),
    Attr("subnets", filter=False, sort=False, json_type="array"),
    _bool("shared", False),
    # net-mtu-writable: 0 means the largest the network's segments carry (domain/ml2/network_mtu.py)
    Attr("mtu", post=True, put=True, default=0, convert=validators.convert_to_int, validate=validators.validate_non_negative,
         json_type="integer"),
    _bool("port_security_enabled", True),
    # provider segment and external flag: checked and stored by domain/ml2/network_ext.py
    Attr("provider:network_type", post=True, put=True, validate=validators.validate_string, validate_arg=32, sort=False),
    Attr("provider:physical_network", post=True, put=True, validate=validators.validate_string, validate_arg=64, sort=False),
    Attr("provider:segmentation_id", post=True, put=True, convert=validators.convert_to_int, sort=False, json_type="integer"),
    Attr("router:external", post=True, put=True, convert=validators.convert_to_boolean, sort=False, json_type="boolean"),
    # address-scope: read-only, from the pools of the network's subnets (services/address_scopes.py)
    Attr("ipv4_address_scope", filter=False, sort=False),
    Attr("ipv6_address_scope", filter=False, sort=False),
    # auto-allocated-topology: the default external network (domain/services/default_external.py)
    Attr("is_default", post=True, put=True, convert=validators.convert_to_boolean, sort=False, json_type="boolean"),
    # multi-provider: checked by domain/ml2/network_ext.py
    Attr("segments", post=True, filter=False, sort=False, json_type="array"),
    # dns-integration: stored by domain/services/dns_ext.py
    Attr("dns_domain", post=True, put=True, default="", convert=dns_names.lower, validate=dns_names.validate_domain,
         validate_arg=255, filter=False, sort=False),
    *_az_attrs(),
)

SUBNET = _spec(
    "subnet",
    "subnets",
    "subnets",
    *_standard(),
    _name(),
    Attr("network_id", post=True, default=REQUIRED, validate=validators.validate_uuid),
    Attr(
        "ip_version",
        post=True,
        default=REQUIRED,
        convert=validators.convert_to_int,
        validate=validators.validate_values,
        validate_arg=[4, 6],
        json_type="integer",
    ),
    # cidr, or a subnet pool to allocate it from (domain/services/subnet_allocation.py)
    Attr("cidr", post=True, convert=lambda v: None if v is None else validators.convert_cidr_to_canonical(v),
         validate=validators.validate_subnet_or_none),
    Attr("gateway_ip", post=True, put=True, validate=validators.validate_ip_address_or_none),
    Attr(
        "allocation_pools",
        post=True,
        put=True,
        validate=validators.validate_allocation_pools,
        filter=False,
        sort=False,
        json_type="array",
    ),
    Attr(
        "dns_nameservers",
        post=True,
        put=True,
        default=[],
        convert=validators.convert_none_to_empty_list,
        validate=validators.validate_nameservers,
        filter=False,
        sort=False,
        json_type="array",
    ),
    Attr(
        "host_routes",
        post=True,
        put=True,
        default=[],
        convert=validators.convert_none_to_empty_list,
        validate=validators.validate_host_routes,
        filter=False,
        sort=False,
        json_type="array",
    ),
    _bool("enable_dhcp", True),
    Attr(
        "ipv6_ra_mode",
        post=True,
        default=None,
        validate=validators.validate_values,
        validate_arg=[None, "slaac", "dhcpv6-stateful", "dhcpv6-stateless"],
    ),
    Attr(
        "ipv6_address_mode",
        post=True,
        default=None,
        validate=validators.validate_values,
        validate_arg=[None, "slaac", "dhcpv6-stateful", "dhcpv6-stateless"],
    ),
    Attr("subnetpool_id", post=True, default=None, validate=validators.validate_uuid_or_none),
    Attr("prefixlen", post=True, convert=validators.convert_to_int, validate=validators.validate_non_negative,
         visible=False, filter=False, sort=False, json_type="integer"),
    Attr("use_default_subnetpool", post=True, default=False, convert=validators.convert_to_boolean, visible=False,
         filter=False, sort=False, json_type="boolean"),
    Attr("segment_id", default=None, sort=False),
    # subnet-service-types: validated by domain/ipam/service_types.py
    Attr("service_types", post=True, put=True, filter=False, sort=False, json_type="array"),
    Attr("shared", visible=False, convert=validators.convert_to_boolean, json_type="boolean"),
    # subnet-external-network: read-only, the network's router:external (domain/services/subnets.py)
    Attr("router:external", default=False, convert=validators.convert_to_boolean, sort=False, json_type="boolean"),
)

PORT = _spec(
    "port",
    "ports",
    "ports",
    *_standard(),
    _name(),
    Attr("network_id", post=True, default=REQUIRED, validate=validators.validate_uuid),
    _bool("admin_state_up", True),
    Attr(
        "mac_address",
        post=True,
        put=True,
        convert=validators.convert_to_lowercase_mac,
        # port-mac-address-regenerate: null asks for a new random MAC
        validate=lambda value: None if value is None else validators.validate_mac_address(value),
    ),
    # tag-ports-during-bulk-creation: tags given on POST (single and bulk)
    Attr("tags", post=True, filter=False, sort=False, json_type="array"),
    Attr("fixed_ips", post=True, put=True, validate=validators.validate_fixed_ips, sort=False, json_type="array"),
    Attr("device_id", post=True, put=True, default="", validate=validators.validate_string, validate_arg=255),
    Attr("device_owner", post=True, put=True, default="", validate=validators.validate_string, validate_arg=255),
    Attr("status"),
    # security groups, port security, allowed address pairs, extra DHCP options: validated by
    # the port_security extension (their rules depend on each other and on the network)
    Attr("security_groups", post=True, put=True, sort=False, json_type="array"),
    Attr("port_security_enabled", post=True, put=True, convert=validators.convert_to_boolean, sort=False, json_type="boolean"),
    Attr("allowed_address_pairs", post=True, put=True, filter=False, sort=False, json_type="array"),
    Attr("extra_dhcp_opts", post=True, put=True, filter=False, sort=False, json_type="array"),
    # port binding: policy and binding by domain/ml2/port_ext.py
    Attr("binding:host_id", post=True, put=True, validate=validators.validate_string, validate_arg=255, sort=False),
    Attr("binding:vnic_type", post=True, put=True, default="normal", validate=validators.validate_values,
         validate_arg=list(VNIC_TYPES), sort=False),
    Attr("binding:profile", post=True, put=True, convert=lambda value: {} if value is None else value,
         validate=validators.validate_dict, filter=False, sort=False, json_type="object"),
    Attr("binding:vif_type", filter=False, sort=False),
    Attr("binding:vif_details", filter=False, sort=False, json_type="object"),
    # dns-integration, dns-domain-ports: dns_name is checked against the server's dns_domain there
    Attr("dns_name", post=True, put=True, default="", convert=dns_names.lower, validate=validators.validate_string,
         validate_arg=255, filter=False, sort=False),
    Attr("dns_domain", post=True, put=True, default="", convert=dns_names.lower, validate=dns_names.validate_domain,
         validate_arg=255, filter=False, sort=False),
    Attr("dns_assignment", filter=False, sort=False, json_type="array"),
)

SECURITY_GROUP = _spec(
    "security_group",
    "security_groups",
    "security-groups",
    *_standard(),
    _name(),
    _bool("stateful", True),
    Attr("shared", convert=validators.convert_to_boolean, sort=False, json_type="boolean"),
    Attr("security_group_rules", filter=False, sort=False, json_type="array"),
)

SECURITY_GROUP_RULE = _spec(
    "security_group_rule",
    "security_group_rules",
    "security-group-rules",
    # rules are not tagged and have no update: their description is POST-only
    *(a for a in _standard() if a.name not in ("tags", "description")),
    Attr("description", post=True, default="", validate=validators.validate_string, validate_arg=255),
    Attr("security_group_id", post=True, default=REQUIRED, validate=validators.validate_string, validate_arg=36),
    Attr("direction", post=True, default=REQUIRED, validate=validators.validate_values, validate_arg=["ingress", "egress"]),
    Attr("ethertype", post=True, default="IPv4", convert=sg_rules.convert_ethertype),
    Attr("protocol", post=True, default=None, convert=sg_protocols.convert),
    Attr("port_range_min", post=True, default=None, convert=sg_rules.convert_port, json_type="integer"),
    Attr("port_range_max", post=True, default=None, convert=sg_rules.convert_port, json_type="integer"),
    Attr("remote_ip_prefix", post=True, default=None, convert=sg_rules.convert_prefix),
    Attr("remote_group_id", post=True, default=None, validate=validators.validate_string_or_none, validate_arg=36),
    Attr("remote_address_group_id", post=True, default=None, validate=validators.validate_string_or_none, validate_arg=36),
    Attr("normalized_cidr", filter=False, sort=False),
)

# agents exist through their heartbeats: no POST; only admin_state_up and description change
AGENT = ResourceSpec(
    "agent",
    "agents",
    "agents",
    {
        a.name: a
        for a in (
            Attr("id", validate=validators.validate_uuid),
            Attr("agent_type"),
            Attr("binary"),
            Attr("topic"),
            Attr("host"),
            _bool("admin_state_up", post=False),
            Attr("description", put=True, validate=validators.validate_string_or_none, validate_arg=255),
            Attr("availability_zone"),
            Attr("alive", convert=validators.convert_to_boolean, sort=False, json_type="boolean"),
            Attr("created_at", filter=False),
            Attr("started_at", filter=False),
            Attr("heartbeat_timestamp", filter=False),
            Attr("configurations", filter=False, sort=False, json_type="object"),
            Attr("resource_versions", filter=False, sort=False, json_type="object"),
            Attr("resources_synced", filter=False, sort=False, json_type="boolean"),
            Attr("ha_chassis_priority", filter=False, sort=False, json_type="integer"),
        )
    },
    allow_bulk=False,
)

ROUTER = _spec(
    "router",
    "routers",
    "routers",
    *_standard(),
    _name(),
    _bool("admin_state_up", True),
    Attr("status"),
    Attr(
        "external_gateway_info",
        post=True,
        put=True,
        default=None,
        validate=validate_external_gateway_info,
        filter=False,
        sort=False,
        json_type="object",
    ),
    *_az_attrs(),
    # l3-ha: admin-only to set and see (domain/services/l3_ha.py); unset means the l3_ha setting
    Attr("ha", post=True, put=True, convert=validators.convert_to_boolean, sort=False, json_type="boolean"),
    # extraroute: PUT only, as in Neutron
    Attr(
        "routes",
        put=True,
        convert=validators.convert_none_to_empty_list,
        validate=validators.validate_host_routes,
        filter=False,
        sort=False,
        json_type="array",
    ),
    Attr("conntrack_helpers", filter=False, sort=False, json_type="array"),  # expose-l3-conntrack-helper
)

FLOATINGIP = _spec(
    "floatingip",
    "floatingips",
    "floatingips",
    *_standard(),
    Attr("floating_ip_address", post=True, default=None, convert=validators.convert_ip_to_canonical,
         validate=validators.validate_ip_address_or_none),
    Attr("subnet_id", post=True, default=None, validate=validators.validate_uuid_or_none, visible=False,
         filter=False, sort=False),
    Attr("floating_network_id", post=True, default=REQUIRED, validate=validators.validate_uuid),
    Attr("router_id", validate=validators.validate_uuid_or_none),
    Attr("port_id", post=True, put=True, default=None, validate=validators.validate_uuid_or_none),
    Attr("fixed_ip_address", post=True, put=True, default=None, convert=validators.convert_ip_to_canonical,
         validate=validators.validate_ip_address_or_none),
    Attr("status"),
    # dns-integration: checked, then dropped without an external DNS service (domain/dns_names.py)
    Attr("dns_name", post=True, default="", convert=dns_names.lower, validate=dns_names.validate_fip_name,
         validate_arg=255, filter=False, sort=False),
    Attr("dns_domain", post=True, default="", convert=dns_names.lower, validate=dns_names.validate_domain,
         validate_arg=255, filter=False, sort=False),
)

# rbac-policies: no standard attributes; object_type and action checked by domain/rbac/
RBAC_POLICY = ResourceSpec(
    "rbac_policy",
    "rbac_policies",
    "rbac-policies",
    {
        a.name: a
        for a in (
            Attr("id", validate=validators.validate_uuid),
            Attr("project_id", post=True, validate=validators.validate_string, validate_arg=255),
            Attr("tenant_id", post=True, validate=validators.validate_string, validate_arg=255),
            Attr("object_type", post=True, default=REQUIRED, convert=lambda v: v.strip().lower() if isinstance(v, str) else v,
                 validate=validators.validate_string, validate_arg=255),
            Attr("object_id", post=True, default=REQUIRED, validate=validators.validate_uuid),
            Attr("action", post=True, default=REQUIRED, validate=validators.validate_string, validate_arg=255),
            Attr("target_tenant", post=True, put=True, default=REQUIRED, validate=validators.validate_target_project),
        )
    },
)

RESOURCES: dict[str, ResourceSpec] = {s.collection: s for s in (NETWORK, SUBNET, PORT)}
RESOURCES["agents"] = AGENT
RESOURCES["security_groups"] = SECURITY_GROUP
RESOURCES["security_group_rules"] = SECURITY_GROUP_RULE
RESOURCES["rbac_policies"] = RBAC_POLICY
# routers and floatingips are listed by the router service plugin while it is loaded
