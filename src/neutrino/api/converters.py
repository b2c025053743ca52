"""Attribute converters for the request parser (neutron-lib's ``converters``).

A converter is ``(value) -> value`` and raises :class:`ConversionError` (the parser reports it
as Neutron's ``InvalidInput``). Values a converter cannot understand but a validator describes
better are passed through unchanged, as neutron-lib does, so the validator
(``api/validators.py``) gives the precise reason.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from neutrino.domain.ipam.mac import normalize_mac


class ConversionError(ValueError):
    """A value that cannot be converted; ``str(exc)`` is the reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def zero_padded_v4(text: str) -> str | None:
    """'010.0.0.1' -> '10.0.0.1': Neutron rejects leading zeros but names the fix."""
    parts = text.split(".")
    if len(parts) != 4 or not all(p.isdigit() and len(p) <= 3 and int(p) <= 255 for p in parts):
        return None
    fixed = ".".join(str(int(p)) for p in parts)
    return fixed if fixed != text else None


_TRUE = frozenset({"1", "t", "true", "on", "y", "yes"})
_FALSE = frozenset({"0", "f", "false", "off", "n", "no"})


def convert_to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
    raise ConversionError(f"'{value}' cannot be converted to boolean")


def convert_to_int(value: Any) -> int:
    msg = f"'{value}' is not an integer"
    if isinstance(value, bool):
        raise ConversionError(msg)
    if isinstance(value, float) and not value.is_integer():
        raise ConversionError(msg)
    try:
        return int(value)
    except (ValueError, TypeError, OverflowError):
        raise ConversionError(msg) from None


def convert_cidr_to_canonical(value: Any) -> Any:
    """'10.0.0.5/24' -> '10.0.0.0/24', '2001:DB8::/64' -> '2001:db8::/64'.

    A value without a prefix or with zero-padded octets is passed on so the validator can
    recommend the right spelling.
    """
    if isinstance(value, str):
        if "/" not in value or zero_padded_v4(value.partition("/")[0]):
            return value
        try:
            return str(ipaddress.ip_network(value, strict=False))
        except ValueError:
            pass
    raise ConversionError(f"'{value}' is not a valid IP subnet")


def convert_ip_to_canonical(value: Any) -> Any:
    """Compressed lower-case spelling of a valid address; anything else unchanged."""
    if isinstance(value, str) and not re.search(r"[\s%]", value):
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            pass
    return value


def convert_to_lowercase_mac(value: Any) -> Any:
    """Lower-case colon form of a parseable MAC; anything else unchanged for the validator."""
    try:
        return normalize_mac(value)
    except ValueError:
        return value


def convert_none_to_empty_list(value: Any) -> Any:
    return [] if value is None else value


def convert_to_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return [value]
