"""Security group rule protocols as the API accepts them: validation of what a user wrote.

The canonical names and numbers are part of the server-agent contract
(``neutrino.contract.protocols``); this module adds the API-side check, which raises
Neutron's fault for a protocol it does not know.
"""

from __future__ import annotations

from typing import Any

from neutrino import errors
from neutrino.contract.protocols import (  # noqa: F401 - re-exported for the domain's callers
    ANY,
    ICMP,
    IP_PROTOCOL_MAP,
    IPV6_ICMP,
    IPV6_ICMP_LEGACY,
    IPV6_ONLY,
    PORT_PROTOCOL_NUMBERS,
    PORT_PROTOCOLS,
    SUPPORTED,
    canonical_for,
    number,
)


def convert(value: Any) -> str | None:
    """The stored spelling: ``None`` for any protocol, a lower-case name, or a number 0-255
    as a string (Neutron keeps numbers as strings so that one column holds both)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise errors.SecurityGroupRuleInvalidProtocol(protocol=value, values=SUPPORTED)
    if isinstance(value, int):
        if 0 <= value <= 255:
            return str(value)
        raise errors.SecurityGroupRuleInvalidProtocol(protocol=value, values=SUPPORTED)
    if not isinstance(value, str):
        raise errors.SecurityGroupRuleInvalidProtocol(protocol=value, values=SUPPORTED)
    text = value.strip().lower()
    if text == ANY:
        return None
    if text.isdigit():
        if 0 <= int(text) <= 255:
            return str(int(text))
        raise errors.SecurityGroupRuleInvalidProtocol(protocol=value, values=SUPPORTED)
    if text in IP_PROTOCOL_MAP:
        return text
    raise errors.SecurityGroupRuleInvalidProtocol(protocol=value, values=SUPPORTED)
