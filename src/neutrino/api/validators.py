"""Attribute converters and validators for the request parser (neutron-lib semantics).

Why: Neutron clients (tempest, the SDK, scripts) see these reasons verbatim in 400 bodies
("Invalid input for cidr. Reason: ..."), so the checks and their wording follow neutron-lib's
``validators`` and ``converters``. A validator is ``(value, arg=None) -> str | None`` and
returns the bare reason; the caller adds the "Invalid input for X" wrapper. A converter is
``(value) -> value`` (``api/converters.py``, re-exported here for the parser).
Only syntax lives here; rules needing the subnet or the database are in the domain layer.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable
from typing import Any

from neutrino.api.converters import (  # the parser reaches both through this module
    ConversionError,
    zero_padded_v4,
    convert_to_boolean,
    convert_to_int,
    convert_cidr_to_canonical,
    convert_ip_to_canonical,
    convert_to_lowercase_mac,
    convert_none_to_empty_list,
    convert_to_list,
)
from neutrino.domain.ipam.mac import normalize_mac

MAX_TAG_LEN = 255
MAX_TAGS = 50
INVALID_MACS = ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff")


# --- helpers ----------------------------------------------------------------------------------


def _keys(keys: Any) -> str:
    return "{" + ", ".join(repr(k) for k in sorted(keys, key=str)) + "}"


def _exact_keys(expected: tuple[str, ...], item: Any) -> str | None:
    if not isinstance(item, dict):
        return f"Invalid input. '{item}' must be a dictionary with keys: {list(expected)}"
    if set(item) != set(expected):
        return (
            f"Validation of dictionary's keys failed. Expected keys: {_keys(expected)} "
            f"Provided keys: {_keys(item)}"
        )
    return None


def _or_none(validator: Callable[..., str | None]) -> Callable[..., str | None]:
    """``validator`` that also accepts ``None`` (neutron-lib's ``*_or_none`` variants)."""

    def check(value: Any, arg: Any = None) -> str | None:
        return None if value is None else validator(value, arg)

    check.__name__ = f"{validator.__name__}_or_none"
    return check


# --- validators -------------------------------------------------------------------------------


def validate_string(value: Any, arg: int | None = None) -> str | None:
    if not isinstance(value, str):
        return f"'{value}' is not a valid string"
    if arg is not None and len(value) > arg:
        return f"'{value}' exceeds maximum length of {arg}"
    return None


def validate_uuid(value: Any, arg: Any = None) -> str | None:
    """UUID-like as oslo's ``is_uuid_like``: any case, dashes/braces/urn prefix optional."""
    msg = f"'{value}' is not a valid UUID"
    if not isinstance(value, str):
        return msg
    bare = value.lower().replace("urn:", "").replace("uuid:", "").strip("{}").replace("-", "")
    try:
        return None if uuid.UUID(value).hex == bare else msg
    except ValueError:
        return msg


def validate_ip_address(value: Any, arg: Any = None) -> str | None:
    msg = f"'{value}' is not a valid IP address"
    if not isinstance(value, str) or re.search(r"[\s%]", value):
        return msg  # '%' would let a scoped IPv6 address ('fe80::1%eth0') through
    try:
        ipaddress.ip_address(value)
    except ValueError:
        fixed = zero_padded_v4(value)
        return f"'{value}' is not an accepted IP address, '{fixed}' is recommended" if fixed else msg
    return None


def validate_subnet(value: Any, arg: Any = None) -> str | None:
    """A cidr string; host bits are allowed (the converter clears them)."""
    msg = f"'{value}' is not a valid IP subnet"
    if not isinstance(value, str) or re.search(r"[\s%]", value):
        return msg
    try:
        iface = ipaddress.ip_interface(value)
    except ValueError:
        addr, slash, plen = value.partition("/")
        fixed = zero_padded_v4(addr)
        if not (fixed and slash and plen.isdigit() and int(plen) <= 32):
            return msg
        iface = ipaddress.ip_interface(f"{fixed}/{int(plen)}")
    if "/" not in value or (iface.version == 4 and str(iface) != value):
        return f"'{value}' isn't a recognized IP subnet cidr, '{iface.network}' is recommended"
    return None


def validate_mac_address(value: Any, arg: Any = None) -> str | None:
    """Parseable and not all-zero/broadcast (multicast is left to the port service)."""
    try:
        mac = normalize_mac(value)
    except ValueError:
        mac = None
    if mac is None or mac in INVALID_MACS:
        return f"'{value}' is not a valid MAC address"
    return None


def validate_values(value: Any, arg: Any = None) -> str | None:
    if arg is None:
        return None
    try:
        if value in arg:
            return None
    except TypeError:
        pass
    return f"{value} is not in {arg}"


def validate_boolean(value: Any, arg: Any = None) -> str | None:
    try:
        convert_to_boolean(value)
    except ConversionError:
        return f"'{value}' is not a valid boolean value"
    return None


def validate_non_negative(value: Any, arg: Any = None) -> str | None:
    try:
        number = int(value)
    except (ValueError, TypeError):
        return f"'{value}' is not an integer"
    return f"'{value}' should be non-negative" if number < 0 else None


def validate_range(value: Any, arg: tuple[int | None, int | None] | None = None) -> str | None:
    """Inclusive ``(min, max)``; ``None`` on either side means unbounded."""
    lo, hi = arg if arg is not None else (None, None)
    try:
        number = int(value)
    except (ValueError, TypeError):
        return f"'{value}' is not an integer"
    if lo is not None and number < lo:
        return f"'{number}' is too small - must be at least '{lo}'"
    if hi is not None and number > hi:
        return f"'{number}' is too large - must be no larger than '{hi}'"
    return None


def validate_dict(value: Any, arg: dict[str, dict[str, Any]] | None = None) -> str | None:
    """A dict; with key specs ``{key: {"required": bool, "type:<name>": arg, "convert_to": f}}``
    also required/unexpected keys and each value (converted in place, as neutron-lib does)."""
    if not isinstance(value, dict):
        return f"'{value}' is not a dictionary"
    if not arg:
        return None
    missing = [k for k, spec in arg.items() if spec.get("required") and k not in value]
    if missing:
        return (
            f"Validation of dictionary's keys failed. Expected keys: {_keys(missing)} "
            f"Provided keys: {_keys(value)}"
        )
    unexpected = [k for k in value if k not in arg]
    if unexpected:
        return f"Unexpected keys supplied: {', '.join(map(str, unexpected))}"
    for key, spec in arg.items():
        if key not in value:
            continue
        if spec.get("convert_to"):
            try:
                value[key] = spec["convert_to"](value[key])
            except ConversionError as exc:
                return str(exc)
        for name, sub_arg in spec.items():
            if name.startswith("type:"):
                func = VALIDATORS.get(name)
                if func is None:
                    return f"Validator '{name}' does not exist."
                msg = func(value[key], sub_arg)
                if msg:
                    return msg
    return None


def validate_list_of_dicts(value: Any, arg: dict[str, dict[str, Any]] | None = None) -> str | None:
    if not isinstance(value, list):
        return f"'{value}' is not a list"
    for item in value:
        msg = validate_dict(item, arg)
        if msg:
            return msg
    return None


def validate_list_of_unique_strings(value: Any, arg: int | None = None) -> str | None:
    if not isinstance(value, list):
        return f"'{value}' is not a list"
    seen: list[Any] = []
    dups: list[Any] = []
    for item in value:
        if item not in seen:
            seen.append(item)
        elif item not in dups:
            dups.append(item)
    if dups:
        return f"Duplicate items in the list: '{', '.join(map(str, dict.fromkeys(dups)))}'"
    for item in value:
        msg = validate_string(item, arg)
        if msg:
            return msg
    return None


def validate_allocation_pools(value: Any, arg: Any = None) -> str | None:
    if not isinstance(value, list):
        return f"Invalid data format for IP pool: '{value}'"
    for pool in value:
        msg = _exact_keys(("start", "end"), pool)
        msg = msg or validate_ip_address(pool["start"]) or validate_ip_address(pool["end"])
        if msg:
            return msg
    return None


def validate_host_routes(value: Any, arg: Any = None) -> str | None:
    if not isinstance(value, list):
        return f"Invalid data format for hostroute: '{value}'"
    seen: list[dict[str, Any]] = []
    for route in value:
        msg = _exact_keys(("destination", "nexthop"), route)
        msg = msg or validate_subnet(route["destination"]) or validate_ip_address(route["nexthop"])
        if msg:
            return msg
        if route in seen:
            return f"Duplicate hostroute '{route}'"
        seen.append(route)
    return None


def validate_nameservers(value: Any, arg: Any = None) -> str | None:
    if not isinstance(value, list):
        return f"Invalid data format for nameserver: '{value}'"
    seen: list[Any] = []
    for host in value:
        msg = validate_ip_address(host)
        if msg:
            return f"'{host}' is not a valid nameserver. {msg}"
        if host in seen:
            return f"Duplicate nameserver '{host}'"
        seen.append(host)
    return None


def validate_fixed_ips(value: Any, arg: Any = None) -> str | None:
    """A list of ``{"subnet_id"?, "ip_address"?}`` (at least one key); IPs unique."""
    if not isinstance(value, list):
        return f"Invalid data format for fixed IP: '{value}'"
    ips: list[Any] = []
    for fixed in value:
        if not isinstance(fixed, dict):
            return f"Invalid data format for fixed IP: '{fixed}'"
        unexpected = [k for k in fixed if k not in ("subnet_id", "ip_address")]
        if unexpected:
            return f"Unexpected keys supplied: {', '.join(map(str, unexpected))}"
        if not fixed:
            return "IP allocation requires subnet_id or ip_address"
        if "ip_address" in fixed:
            ip = fixed["ip_address"]
            msg = f"Duplicate IP address '{ip}'" if ip in ips else validate_ip_address(ip)
            if msg:
                return msg
            ips.append(ip)
        if "subnet_id" in fixed:
            msg = validate_uuid(fixed["subnet_id"])
            if msg:
                return msg
    return None


def validate_tag(value: Any, arg: int | None = MAX_TAG_LEN) -> str | None:
    return validate_string(value, MAX_TAG_LEN if arg is None else arg)


def validate_tags(value: Any, arg: int | None = MAX_TAGS) -> str | None:
    """Unique strings of at most 255 characters, at most ``arg`` (50) of them."""
    msg = validate_list_of_unique_strings(value, MAX_TAG_LEN)
    if msg:
        return msg
    limit = MAX_TAGS if arg is None else arg
    if len(value) > limit:
        return f"The number of tags exceeds the limit {limit}"
    return None


validate_string_or_none = _or_none(validate_string)
validate_uuid_or_none = _or_none(validate_uuid)
validate_ip_address_or_none = _or_none(validate_ip_address)
validate_subnet_or_none = _or_none(validate_subnet)
validate_mac_address_or_none = _or_none(validate_mac_address)

VALIDATORS: dict[str, Callable[..., str | None]] = {
    "type:string": validate_string,
    "type:string_or_none": validate_string_or_none,
    "type:uuid": validate_uuid,
    "type:uuid_or_none": validate_uuid_or_none,
    "type:ip_address": validate_ip_address,
    "type:ip_address_or_none": validate_ip_address_or_none,
    "type:subnet": validate_subnet,
    "type:subnet_or_none": validate_subnet_or_none,
    "type:mac_address": validate_mac_address,
    "type:mac_address_or_none": validate_mac_address_or_none,
    "type:values": validate_values,
    "type:boolean": validate_boolean,
    "type:non_negative": validate_non_negative,
    "type:range": validate_range,
    "type:dict": validate_dict,
    "type:list_of_dicts": validate_list_of_dicts,
    "type:list_of_unique_strings": validate_list_of_unique_strings,
    "type:ip_pools": validate_allocation_pools,
    "type:hostroutes": validate_host_routes,
    "type:nameservers": validate_nameservers,
    "type:fixed_ips": validate_fixed_ips,
    "type:tag": validate_tag,
    "type:tags": validate_tags,
}
"""neutron-lib's registry names, for key specs inside :func:`validate_dict`."""


def validate_target_project(value: Any, arg: Any = None) -> str | None:
    """rbac-policies' target_tenant: a project id (UUID-like, as Keystone's) or ``*``."""
    if value == "*":
        return None
    if validate_uuid(value) is None:
        return None
    return f"'{value}' is not a valid target project ID; expected a UUID or '*'"
