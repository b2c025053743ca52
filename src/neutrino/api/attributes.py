"""Attribute maps: what each resource accepts on POST and PUT, its defaults and validators.

This is Neutron's RESOURCE_ATTRIBUTE_MAP idea kept as data: the request parser, the list
filters and the served OpenAPI document are all derived from it, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from neutrino.api import validators as v


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
    return Attr("name", post=True, put=True, default="", validate=v.validate_string, validate_arg=255)


def _standard() -> tuple[Attr, ...]:
    return (
        Attr("id", validate=v.validate_uuid),
        Attr("project_id", post=True, validate=v.validate_string, validate_arg=255),
        Attr("tenant_id", post=True, validate=v.validate_string, validate_arg=255),
        Attr("description", post=True, put=True, default="", validate=v.validate_string, validate_arg=255),
        Attr("created_at", filter=False),
        Attr("updated_at", filter=False),
        Attr("revision_number", convert=v.convert_to_int, json_type="integer"),
        Attr("tags", filter=False, sort=False, json_type="array"),
    )


def _bool(name: str, default: Any = NOT_SPECIFIED, post: bool = True, put: bool = True) -> Attr:
    return Attr(name, post=post, put=put, default=default, convert=v.convert_to_boolean, json_type="boolean")


NETWORK = _spec(
    "network",
    "networks",
    "networks",
    *_standard(),
    _name(),
    _bool("admin_state_up", True),
    Attr("status", validate=v.validate_string, validate_arg=16),
    Attr("subnets", filter=False, sort=False, json_type="array"),
    _bool("shared", False),
    Attr("mtu", convert=v.convert_to_int, json_type="integer"),
    _bool("port_security_enabled", True),
)

SUBNET = _spec(
    "subnet",
    "subnets",
    "subnets",
    *_standard(),
    _name(),
    Attr("network_id", post=True, default=REQUIRED, validate=v.validate_uuid),
    Attr(
        "ip_version",
        post=True,
        default=REQUIRED,
        convert=v.convert_to_int,
        validate=v.validate_values,
        validate_arg=[4, 6],
        json_type="integer",
    ),
    Attr("cidr", post=True, default=REQUIRED, convert=v.convert_cidr_to_canonical, validate=v.validate_subnet),
    Attr("gateway_ip", post=True, put=True, validate=v.validate_ip_address_or_none),
    Attr(
        "allocation_pools",
        post=True,
        put=True,
        validate=v.validate_allocation_pools,
        filter=False,
        sort=False,
        json_type="array",
    ),
    Attr(
        "dns_nameservers",
        post=True,
        put=True,
        default=[],
        convert=v.convert_none_to_empty_list,
        validate=v.validate_nameservers,
        filter=False,
        sort=False,
        json_type="array",
    ),
    Attr(
        "host_routes",
        post=True,
        put=True,
        default=[],
        convert=v.convert_none_to_empty_list,
        validate=v.validate_host_routes,
        filter=False,
        sort=False,
        json_type="array",
    ),
    _bool("enable_dhcp", True),
    Attr(
        "ipv6_ra_mode",
        post=True,
        default=None,
        validate=v.validate_values,
        validate_arg=[None, "slaac", "dhcpv6-stateful", "dhcpv6-stateless"],
    ),
    Attr(
        "ipv6_address_mode",
        post=True,
        default=None,
        validate=v.validate_values,
        validate_arg=[None, "slaac", "dhcpv6-stateful", "dhcpv6-stateless"],
    ),
    Attr("subnetpool_id", post=True, default=None, validate=v.validate_values, validate_arg=[None]),
    Attr("segment_id", default=None, sort=False),
    Attr("service_types", filter=False, sort=False, json_type="array"),
    Attr("shared", visible=False, convert=v.convert_to_boolean, json_type="boolean"),
)

PORT = _spec(
    "port",
    "ports",
    "ports",
    *_standard(),
    _name(),
    Attr("network_id", post=True, default=REQUIRED, validate=v.validate_uuid),
    _bool("admin_state_up", True),
    Attr(
        "mac_address",
        post=True,
        put=True,
        convert=v.convert_to_lowercase_mac,
        validate=v.validate_mac_address,
    ),
    Attr("fixed_ips", post=True, put=True, validate=v.validate_fixed_ips, sort=False, json_type="array"),
    Attr("device_id", post=True, put=True, default="", validate=v.validate_string, validate_arg=255),
    Attr("device_owner", post=True, put=True, default="", validate=v.validate_string, validate_arg=255),
    Attr("status"),
)

RESOURCES: dict[str, ResourceSpec] = {s.collection: s for s in (NETWORK, SUBNET, PORT)}
