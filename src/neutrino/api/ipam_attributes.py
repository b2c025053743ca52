"""Attribute maps of subnet pools and address scopes (neutron-lib's ``subnetpool`` and
``address_scope`` API definitions), kept beside the core ones of ``api/attributes.py``.

Neutron serves both as core collections (``subnet_allocation``, ``address-scope``). A pool's
name and prefixes are required; ``shared`` is set at creation only (a PUT is a 400), while an
address scope's ``shared`` may be turned on later by an admin. Address scopes have no standard
attributes in Neutron: no description, tags, timestamps or revision number.
"""

from __future__ import annotations

from typing import Any

from neutrino.api import validators
from neutrino.api.attributes import NOT_SPECIFIED, REQUIRED, Attr, ResourceSpec, _bool, _standard


def validate_not_empty_string(value: Any, arg: int | None = None) -> str | None:
    msg = validators.validate_string(value, arg)
    if msg:
        return msg
    if not value.strip():
        return f"'{value}' Blank strings are not permitted"
    return None


def validate_subnet_list(value: Any, arg: Any = None) -> str | None:
    """A list of distinct cidrs (neutron-lib's ``type:subnet_list``)."""
    if not isinstance(value, list):
        return f"'{value}' is not a list"
    dups = sorted({v for v in value if isinstance(v, str) and value.count(v) > 1})
    if dups:
        return f"Duplicate items in the list: '{', '.join(dups)}'"
    for item in value:
        msg = validators.validate_subnet(item)
        if msg:
            return msg
    return None


def _prefixlen(name: str) -> Attr:
    return Attr(name, post=True, put=True, convert=validators.convert_to_int,
                validate=validators.validate_non_negative, json_type="integer")


SUBNETPOOL = ResourceSpec(
    "subnetpool",
    "subnetpools",
    "subnetpools",
    {
        a.name: a
        for a in (
            *_standard(),
            Attr("name", post=True, put=True, default=REQUIRED, validate=validate_not_empty_string, validate_arg=255),
            Attr("prefixes", post=True, put=True, default=REQUIRED, validate=validate_subnet_list,
                 filter=False, sort=False, json_type="array"),
            Attr("default_quota", post=True, put=True, convert=validators.convert_to_int,
                 validate=validators.validate_non_negative, json_type="integer"),
            Attr("ip_version", convert=validators.convert_to_int, json_type="integer"),
            _prefixlen("default_prefixlen"),
            _prefixlen("min_prefixlen"),
            _prefixlen("max_prefixlen"),
            _bool("is_default", False),
            _bool("shared", False, put=False),
            # address-scope extension
            Attr("address_scope_id", post=True, put=True, default=NOT_SPECIFIED,
                 validate=validators.validate_uuid_or_none),
        )
    },
    tag_type="subnetpool",
)

ADDRESS_SCOPE = ResourceSpec(
    "address_scope",
    "address_scopes",
    "address-scopes",
    {
        a.name: a
        for a in (
            Attr("id", validate=validators.validate_uuid),
            Attr("project_id", post=True, validate=validators.validate_string, validate_arg=255),
            Attr("tenant_id", post=True, validate=validators.validate_string, validate_arg=255),
            Attr("name", post=True, put=True, default="", validate=validators.validate_string, validate_arg=255),
            _bool("shared", False),
            Attr("ip_version", post=True, default=REQUIRED, convert=validators.convert_to_int,
                 validate=validators.validate_values, validate_arg=[4, 6], json_type="integer"),
        )
    },
)

IPAM_RESOURCES: dict[str, ResourceSpec] = {s.collection: s for s in (SUBNETPOOL, ADDRESS_SCOPE)}
