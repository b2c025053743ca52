"""Allowed address pairs of a port: the extra (MAC, IP or CIDR) a port may send from.

Why: the anti-spoofing rules of the firewall admit a port's own MAC and fixed IPs plus these
pairs (a VRRP address, a container network behind a VM). Validation follows neutron-lib's
``_validate_allowed_address_pairs``: a list of at most ``max_allowed_address_pair`` dicts with
an ``ip_address`` and an optional ``mac_address`` (default: the port's own), no duplicates.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from neutrino import errors
from neutrino.domain.ipam.mac import normalize_mac

INVALID_MACS = ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff")
KEYS = ("ip_address", "mac_address")


@dataclass(frozen=True, order=True)
class AddressPair:
    ip_address: str
    mac_address: str

    def as_dict(self) -> dict[str, str]:
        return {"ip_address": self.ip_address, "mac_address": self.mac_address}


def _bad(msg: str) -> errors.HTTPBadRequest:
    return errors.HTTPBadRequest(msg=msg)


def _mac(value: Any) -> str:
    try:
        mac = normalize_mac(value)
    except ValueError:
        mac = None
    if mac is None or mac in INVALID_MACS:
        raise _bad(f"'{value}' is not a valid MAC address")
    return mac


def _ip(value: Any) -> str:
    """An address or a CIDR (host bits allowed), in canonical spelling."""
    if not isinstance(value, str) or value != value.strip() or "%" in value:
        raise _bad(f"'{value}' is not a valid IP {'subnet' if '/' in str(value) else 'address'}")
    if "/" not in value:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise _bad(f"'{value}' is not a valid IP address") from None
    try:
        iface = ipaddress.ip_interface(value)
    except ValueError:
        raise _bad(f"'{value}' is not a valid IP subnet") from None
    if iface.version == 4 and str(iface) != value:
        raise _bad(f"'{value}' isn't a recognized IP subnet cidr, '{iface.network}' is recommended")
    return str(iface)


def normalise(value: Any, *, max_pairs: int, port_mac: str) -> list[AddressPair]:
    """The pairs to store (``None`` means none), each with its MAC filled in, sorted."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _bad("Allowed address pairs must be a list.")
    if len(value) > max_pairs:
        raise errors.AllowedAddressPairExhausted(quota=max_pairs)
    out: list[AddressPair] = []
    for item in value:
        if not isinstance(item, dict):
            raise _bad(f"Invalid input for allowed_address_pairs. Reason: '{item}' is not a dictionary.")
        mac = _mac(item["mac_address"]) if "mac_address" in item else port_mac
        if "ip_address" not in item:
            raise errors.AllowedAddressPairsMissingIP()
        unknown = [k for k in item if k not in KEYS]
        if unknown:
            raise _bad(f"Unrecognized attribute(s) '{', '.join(map(str, unknown))}'")
        pair = AddressPair(_ip(item["ip_address"]), mac)
        if pair in out:
            raise errors.DuplicateAddressPairInRequest(mac_address=pair.mac_address, ip_address=pair.ip_address)
        out.append(pair)
    return sorted(out)
