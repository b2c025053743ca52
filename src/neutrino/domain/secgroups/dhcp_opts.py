"""Extra DHCP options of a port (``extra_dhcp_opts``): validation and Neutron's update merge.

Why: the DHCP agent writes these into dnsmasq's per-host options, so a bad name or value must
be refused at the API. Validation follows neutron-lib's extra_dhcp_opt definition: a list of
``{opt_name, opt_value, ip_version?}`` (name 1-64 characters, value 1-255 or null, version 4
or 6, default 4); ``router`` and ``classless-static-route`` may be blank (an empty value
tells dnsmasq to send none). An update merges into what the port has: an option with a value
adds or replaces, one with a null value removes it, options not named stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neutrino import errors

NAME_MAX = 64
VALUE_MAX = 255
BLANKABLE = ("router", "classless-static-route")
KEYS = ("id", "opt_name", "opt_value", "ip_version")

Key = tuple[str, int]  # (opt_name, ip_version)


@dataclass(frozen=True)
class DhcpOpt:
    opt_name: str
    opt_value: str | None
    ip_version: int = 4

    @property
    def key(self) -> Key:
        return (self.opt_name, self.ip_version)


def _bad(data: Any) -> errors.ExtraDhcpOptBadData:
    return errors.ExtraDhcpOptBadData(data=data)


def _string(value: Any, max_len: int, *, blank_ok: bool, none_ok: bool) -> str | None:
    if value is None and none_ok:
        return None
    if not isinstance(value, str):
        raise _bad(f"'{value}' is not a valid string")
    if not blank_ok and not value.strip():
        raise _bad(f"'{value}' Blank strings are not permitted")
    if len(value) > max_len:
        raise _bad(f"'{value}' exceeds maximum length of {max_len}")
    return value


def _version(value: Any) -> int:
    try:
        version = int(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        version = None
    if version not in (4, 6):
        raise _bad(f"{value} is not in [4, 6]")
    return version


def _one(item: Any) -> DhcpOpt:
    if not isinstance(item, dict):
        raise _bad(f"'{item}' is not a dictionary")
    missing = [k for k in ("opt_name", "opt_value") if k not in item]
    if missing:
        raise _bad(
            f"Validation of dictionary's keys failed. Expected keys: {set(missing)} "
            f"Provided keys: {set(item)}"
        )
    unexpected = [k for k in item if k not in KEYS]
    if unexpected:
        raise _bad(f"Unexpected keys supplied: {', '.join(map(str, unexpected))}")
    name = _string(item["opt_name"], NAME_MAX, blank_ok=False, none_ok=False)
    assert name is not None
    value = _string(item["opt_value"], VALUE_MAX, blank_ok=name in BLANKABLE, none_ok=True)
    return DhcpOpt(name, value, _version(item.get("ip_version", 4)))


def parse(value: Any) -> list[DhcpOpt]:
    """The options of a request (``None`` means none); an option named twice is refused."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _bad(value)
    out = [_one(item) for item in value]
    seen: set[Key] = set()
    for opt in out:
        if opt.key in seen:
            raise _bad(f"Duplicate option {opt.opt_name} for IPv{opt.ip_version}")
        seen.add(opt.key)
    return out


def _keeps(opt: DhcpOpt) -> bool:
    """A null value never stores; a blank one only for the blankable options."""
    if opt.opt_name in BLANKABLE:
        return opt.opt_value is not None
    return bool(opt.opt_value)


def merge(current: dict[Key, str], updates: list[DhcpOpt]) -> dict[Key, str]:
    """The options after an update (or a create, from ``{}``)."""
    out = dict(current)
    for opt in updates:
        if opt.opt_value is None:
            out.pop(opt.key, None)
        elif _keeps(opt):
            out[opt.key] = opt.opt_value
    return out
