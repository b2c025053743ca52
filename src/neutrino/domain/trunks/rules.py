"""The pure rules of trunks and subports: request shape, segmentation, status.

Why pure: the same checks guard POST /trunks (the ``sub_ports`` attribute) and the
add_subports / remove_subports actions, and their order decides which error a client sees, so
they are data in, message out, unit-tested without a database. The messages and the order
follow neutron-lib's ``validate_subports`` and Neutron's trunk rules (docs/neutron-behaviour.md,
"Trunks").
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any


VLAN = "vlan"
INHERIT = "inherit"
SUBPORT_OWNER = "trunk:subport"
SEGMENTATION_TYPES = {VLAN: (1, 4094)}
"""Segmentation types the OVS trunk driver supports, with their valid id range."""

DOWN, BUILD, ACTIVE, DEGRADED, ERROR = "DOWN", "BUILD", "ACTIVE", "DEGRADED", "ERROR"


def is_uuid(value: Any) -> bool:
    """UUID-like as oslo's ``is_uuid_like`` (any case; dashes, braces, urn prefix optional)."""
    if not isinstance(value, str):
        return False
    bare = value.lower().replace("urn:", "").replace("uuid:", "").strip("{}").replace("-", "")
    try:
        return uuid.UUID(value).hex == bare
    except ValueError:
        return False


def validate_subports(data: Any, _arg: Any = None) -> str | None:
    """neutron-lib's ``type:subports``: a list of dicts with unique valid port ids and, unless
    the request asks to inherit, both segmentation fields and ids unique per type. A subport
    with ``inherit`` ends the check (later entries are not looked at), as in neutron-lib; a
    dict with only ``port_id`` passes here and is refused later (``segmentation_of``)."""
    if not isinstance(data, list):
        return f"Invalid data format for subports: '{data}' is not a list"
    ids: set[str] = set()
    used: dict[Any, set[Any]] = defaultdict(set)
    for sub in data:
        if not isinstance(sub, dict):
            return f"Invalid data format for subport: '{sub}' is not a dict"
        if "port_id" not in sub:
            return "A valid port UUID must be specified"
        if not is_uuid(sub["port_id"]):
            return f"Invalid UUID for subport: '{sub['port_id']}'"
        if sub["port_id"] in ids:
            return f"Non unique UUID for subport: '{sub['port_id']}'"
        ids.add(sub["port_id"])
        seg_type = sub.get("segmentation_type")
        if seg_type == INHERIT:
            return None
        seg_id = sub.get("segmentation_id")
        if (not seg_type or seg_id is None) and len(sub) > 1:
            return (f"Invalid subport details '{sub}': missing segmentation information. "
                    "Must specify both segmentation_id and segmentation_type")
        if seg_id in used.get(seg_type, set()):
            return f"Segmentation ID '{seg_id}' for '{sub['port_id']}' is not unique"
        if seg_id is not None:
            used[seg_type].add(seg_id)
    return None


def segmentation_of(sub: dict[str, Any]) -> tuple[str, int]:
    """(type, id) of a subport after ``inherit`` was resolved, or ValueError with Neutron's
    message: both fields present, the id an integer, the type known and the id in its range."""
    try:
        seg_type, raw = sub["segmentation_type"], sub["segmentation_id"]
    except KeyError:
        raise ValueError(f"Invalid subport details '{sub}': missing segmentation information. "
                         "Must specify both segmentation_id and segmentation_type") from None
    try:
        seg_id = int(raw)
        if isinstance(raw, bool) or (isinstance(raw, float) and raw != seg_id):
            raise ValueError
    except (TypeError, ValueError):
        raise ValueError(f"Invalid subport details: segmentation_id '{raw}' is not an integer") from None
    if seg_type not in SEGMENTATION_TYPES:
        raise ValueError(f"Unknown segmentation_type '{seg_type}'")
    low, high = SEGMENTATION_TYPES[seg_type]
    if not low <= seg_id <= high:
        raise ValueError(f"Segmentation ID '{seg_id}' is not in range")
    return seg_type, seg_id


def trunk_status(parent_vif_type: str | None, parent_host: str, ports_status: Iterable[str],
                 subport_vif_types: Iterable[str]) -> str:
    """The status a trunk reports, from its ports (neutrino derives it, Neutron stores what its
    agent reported; the values and their meaning are Neutron's):

    DOWN: the parent is not bound to a host (no dataplane behind the trunk).
    ERROR: the parent's binding failed. DEGRADED: a subport's binding failed.
    ACTIVE: the parent and every subport are ACTIVE (wired by the agent). BUILD: otherwise
    (bound, the agent has not reported everything wired yet)."""
    if not parent_host or parent_vif_type in (None, "unbound"):
        return DOWN
    if parent_vif_type == "binding_failed":
        return ERROR
    if any(v == "binding_failed" for v in subport_vif_types):
        return DEGRADED
    return ACTIVE if all(s == "ACTIVE" for s in ports_status) else BUILD
