"""A security group rule: normalisation, validation, duplicate key, default templates.

Why here and pure: these rules are what Neutron's API promises (docs/neutron-behaviour.md, "Security groups") and what the
firewall renders later, so they must be exact and testable without a database. ``normalise``
takes the request's values and returns a ``RuleSpec`` in stored form or raises the NeutronError
Neutron raises, checked in Neutron's order: conversions (protocol, ports, ethertype, prefix),
the ICMPv6 spelling, port range by protocol, prefix family, protocol family, one remote only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from neutrino import errors
from neutrino.domain.secgroups import protocols

DIRECTIONS = ("ingress", "egress")
ETHERTYPES = ("IPv4", "IPv6")
ANY_PREFIXES = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class RuleSpec:
    direction: str
    ethertype: str = "IPv4"
    protocol: str | None = None
    port_range_min: int | None = None
    port_range_max: int | None = None
    remote_ip_prefix: str | None = None
    remote_group_id: str | None = None
    remote_address_group_id: str | None = None


# --- conversions (Neutron's attribute converters) ---------------------------------------------


def convert_ethertype(value: Any) -> str:
    if isinstance(value, str):
        for name in ETHERTYPES:
            if name.lower() == value.lower():
                return name
    raise errors.SecurityGroupRuleInvalidEtherType(ethertype=value, values=list(ETHERTYPES))


def convert_port(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise errors.SecurityGroupInvalidPortValue(port=value)
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise errors.SecurityGroupInvalidPortValue(port=value) from None
    if isinstance(value, float) and value != port:
        raise errors.SecurityGroupInvalidPortValue(port=value)
    if not 0 <= port <= 65535:
        raise errors.SecurityGroupInvalidPortValue(port=value)
    return port


def convert_prefix(value: Any) -> str | None:
    """``10.0.0.5`` -> ``10.0.0.5/32``: the prefix always carries its length; host bits are
    kept as given (``normalized_cidr`` shows the network), as Neutron stores it."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value != value.strip() or "%" in value:
        raise errors.InvalidCIDR(input=value)
    try:
        return str(ipaddress.ip_interface(value))
    except ValueError:
        raise errors.InvalidCIDR(input=value) from None


def normalized_cidr(prefix: str | None) -> str | None:
    if prefix is None:
        return None
    return str(ipaddress.ip_interface(prefix).network)


# --- validation -------------------------------------------------------------------------------


def _check_port_range(protocol: str | None, low: int | None, high: int | None) -> None:
    if low is None and high is None:
        return
    if protocol is None:
        raise errors.SecurityGroupProtocolRequiredWithPorts()
    number = protocols.number(protocol)
    if number in protocols.PORT_PROTOCOL_NUMBERS:
        if low == 0 or high == 0:
            raise errors.SecurityGroupInvalidPortValue(port=0)
        if low is None or high is None or low > high:
            raise errors.SecurityGroupInvalidPortRange()
    elif number in (protocols.ICMP, protocols.IPV6_ICMP):
        for value, field, attr in ((low, "type", "port_range_min"), (high, "code", "port_range_max")):
            if value is not None and not 0 <= value <= 255:
                raise errors.SecurityGroupInvalidIcmpValue(field=field, attr=attr, value=value)
        if low is None:
            raise errors.SecurityGroupMissingIcmpType(value=high)
    else:
        raise errors.SecurityGroupInvalidProtocolForPort(
            protocol=number, valid_port_protocols=", ".join(p.upper() for p in protocols.PORT_PROTOCOLS)
        )


def _check_prefix_family(prefix: str | None, ethertype: str, given: Any) -> None:
    if prefix is not None and ethertype != f"IPv{ipaddress.ip_interface(prefix).version}":
        raise errors.SecurityGroupRuleParameterConflict(ethertype=ethertype, cidr=given)


def _check_protocol_family(protocol: str | None, ethertype: str) -> None:
    if ethertype == "IPv4" and protocol in protocols.IPV6_ONLY:
        raise errors.SecurityGroupEthertypeConflictWithProtocol(ethertype=ethertype, protocol=protocol)


def normalise(data: Mapping[str, Any]) -> RuleSpec:
    """The rule as stored, from the request's values (absent keys take their defaults)."""
    direction = data.get("direction")
    if direction not in DIRECTIONS:
        raise errors.HTTPBadRequest(
            msg=f"Invalid input for direction. Reason: {direction} is not in {list(DIRECTIONS)}."
        )
    protocol = protocols.convert(data.get("protocol"))
    low = convert_port(data.get("port_range_min"))
    high = convert_port(data.get("port_range_max"))
    ethertype = convert_ethertype(data.get("ethertype", "IPv4"))
    given_prefix = data.get("remote_ip_prefix")
    prefix = convert_prefix(given_prefix)
    protocol = protocols.canonical_for(protocol, ethertype)
    _check_port_range(protocol, low, high)
    _check_prefix_family(prefix, ethertype, given_prefix)
    _check_protocol_family(protocol, ethertype)
    remote_group = data.get("remote_group_id")
    remote_address_group = data.get("remote_address_group_id")
    if sum(1 for remote in (prefix, remote_group, remote_address_group) if remote) > 1:
        raise errors.SecurityGroupMultipleRemoteEntites()
    if protocols.number(protocol) in protocols.PORT_PROTOCOL_NUMBERS and (low, high) == (1, 65535):
        low = high = None  # every port: the same rule as no range at all
    return RuleSpec(direction, ethertype, protocol, low, high, prefix, remote_group, remote_address_group or None)


# --- duplicates -------------------------------------------------------------------------------


def rule_key(rule: RuleSpec | Any, security_group_id: str) -> tuple[Any, ...]:
    """Two rules with the same key allow the same traffic: a second one is a duplicate.

    As Neutron's ``_rule_to_key``, an any-address prefix equals no prefix and a protocol
    compares by number; the prefix also compares by network (``10.0.0.5/24`` = ``10.0.0.0/24``).
    Accepts a RuleSpec or a stored row."""
    prefix = rule.remote_ip_prefix
    network = None if prefix is None or prefix in ANY_PREFIXES else normalized_cidr(prefix)
    if network in ANY_PREFIXES:
        network = None
    protocol = protocols.canonical_for(rule.protocol, rule.ethertype)
    return (
        security_group_id,
        rule.direction,
        rule.ethertype,
        protocols.number(protocol),
        rule.port_range_min,
        rule.port_range_max,
        network,
        rule.remote_group_id,
        getattr(rule, "remote_address_group_id", None),
    )


# --- the rules every new group starts with (Neutron's security-groups-default-rules) ----------

PARENT = "PARENT"
"""A template's ``remote_group_id`` naming the new group itself."""


def from_templates(templates: Iterable[Any], group_id: str) -> list[RuleSpec]:
    """A new group's rules from the template rows that apply to it, ``PARENT`` replaced by
    the group's own id."""
    return [
        RuleSpec(
            t.direction,
            t.ethertype,
            t.protocol,
            t.port_range_min,
            t.port_range_max,
            t.remote_ip_prefix,
            group_id if t.remote_group_id == PARENT else t.remote_group_id,
            t.remote_address_group_id,
        )
        for t in templates
    ]


def initial_rules(group_id: str, *, default_group: bool) -> list[RuleSpec]:
    """The legacy template as data (what the migration stores): egress to anywhere for both
    families; the project's ``default`` group also admits ingress from its own members."""
    out = [RuleSpec("egress", ethertype) for ethertype in ETHERTYPES]
    if default_group:
        out += [RuleSpec("ingress", ethertype, remote_group_id=group_id) for ethertype in ETHERTYPES]
    return out
