"""Attribute maps of the security resources added to groups and rules: address groups
(``address-group``) and the default security group rule templates
(``security-groups-default-rules``), as Neutron's RESOURCE_ATTRIBUTE_MAPs."""

from __future__ import annotations

from neutrino.api import validators
from neutrino.api.attributes import REQUIRED, Attr, ResourceSpec, _name, _standard
from neutrino.domain.secgroups import address_groups as ag
from neutrino.domain.secgroups import protocols as sg_protocols
from neutrino.domain.secgroups import rules as sg_rules

ADDRESS_GROUP = ResourceSpec(
    "address_group",
    "address_groups",
    "address-groups",
    {
        a.name: a
        for a in (
            *(a for a in _standard() if a.name != "tags"),
            _name(),
            Attr("addresses", post=True, validate=ag.validate_subnet_list, filter=False, sort=False,
                 convert=validators.convert_none_to_empty_list, json_type="array"),
        )
    },
)

DEFAULT_SECURITY_GROUP_RULE = ResourceSpec(
    "default_security_group_rule",
    "default_security_group_rules",
    "default-security-group-rules",
    {
        a.name: a
        for a in (
            Attr("id", validate=validators.validate_uuid),
            Attr("tenant_id", post=True, validate=validators.validate_string, validate_arg=255, filter=False,
                 sort=False, visible=False),
            Attr("project_id", post=True, validate=validators.validate_string, validate_arg=255, filter=False,
                 sort=False, visible=False),
            Attr("description", post=True, default="", validate=validators.validate_string, validate_arg=255,
                 sort=False),
            Attr("direction", post=True, default=REQUIRED, validate=validators.validate_values,
                 validate_arg=["ingress", "egress"]),
            Attr("ethertype", post=True, default="IPv4", convert=sg_rules.convert_ethertype),
            Attr("protocol", post=True, default=None, convert=sg_protocols.convert),
            Attr("port_range_min", post=True, default=None, convert=sg_rules.convert_port, json_type="integer"),
            Attr("port_range_max", post=True, default=None, convert=sg_rules.convert_port, json_type="integer"),
            Attr("remote_ip_prefix", post=True, default=None, convert=sg_rules.convert_prefix),
            Attr("remote_group_id", post=True, default=None, validate=validators.validate_string_or_none,
                 validate_arg=36),
            Attr("remote_address_group_id", post=True, default=None, validate=validators.validate_string_or_none,
                 validate_arg=36),
            Attr("used_in_default_sg", post=True, default=REQUIRED, convert=validators.convert_to_boolean,
                 sort=False, json_type="boolean"),
            Attr("used_in_non_default_sg", post=True, default=REQUIRED, convert=validators.convert_to_boolean,
                 sort=False, json_type="boolean"),
        )
    },
)

# network-segment-range (admin only; checked by domain/services/segment_ranges.py)
NETWORK_SEGMENT_RANGE = ResourceSpec(
    "network_segment_range",
    "network_segment_ranges",
    "network-segment-ranges",
    {
        a.name: a
        for a in (
            *_standard(),
            _name(),
            Attr("default", convert=validators.convert_to_boolean, json_type="boolean"),
            Attr("shared", post=True, default=True, convert=validators.convert_to_boolean, json_type="boolean"),
            Attr("network_type", post=True, validate=validators.validate_values,
                 validate_arg=["vlan", "vxlan", "gre", "geneve"]),
            Attr("physical_network", post=True, validate=validators.validate_string_or_none, validate_arg=64),
            Attr("minimum", post=True, put=True, convert=validators.convert_to_int, json_type="integer"),
            Attr("maximum", post=True, put=True, convert=validators.convert_to_int, json_type="integer"),
            Attr("used", filter=False, sort=False, json_type="object"),
            Attr("available", filter=False, sort=False, json_type="array"),
        )
    },
    tag_type="network_segment_range",
)
