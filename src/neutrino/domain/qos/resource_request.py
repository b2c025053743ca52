"""A port's ``resource_request``: what its QoS policy's minimum rules ask of the scheduler.

Neutron builds it for Nova and Placement (extensions port-resource-request and
port-resource-request-groups; docs/neutron-behaviour.md, "QoS minimum packet rate and resource
requests"): one request group for the minimum bandwidth rules (the resource classes
``NET_BW_EGR_KILOBIT_PER_SEC`` / ``NET_BW_IGR_KILOBIT_PER_SEC``, the traits of the network's first
segment and of the port's vnic type), one for the minimum packet rate rules
(``NET_PACKET_RATE_[EGR_|IGR_]KILOPACKET_PER_SEC``, the vnic type's trait), each with a stable id
(a UUIDv5 of the port id and the rules' ids), and ``same_subtree`` naming them all. No minimum
rules: ``None``. Pure: the API layer hands in the rows.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from neutrino.domain.qos.rules import ANY, EGRESS, INGRESS, MINIMUM_BANDWIDTH, MINIMUM_PACKET_RATE

TUNNEL_TRAIT = "CUSTOM_NETWORK_TUNNEL_PROVIDER"
BW_CLASSES = {EGRESS: "NET_BW_EGR_KILOBIT_PER_SEC", INGRESS: "NET_BW_IGR_KILOBIT_PER_SEC"}
PPS_CLASSES = {ANY: "NET_PACKET_RATE_KILOPACKET_PER_SEC", EGRESS: "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC",
               INGRESS: "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC"}  # fmt: skip


@dataclass(frozen=True)
class MinimumRule:
    id: str
    type: str
    direction: str
    value: int
    """min_kbps or min_kpps."""


def custom_trait(name: str) -> str:
    """Placement's custom trait name: ``CUSTOM_`` and the name upper-cased, each run of other
    characters than letters and digits one underscore."""
    return "CUSTOM_" + re.sub("[^0-9A-Za-z]+", "_", name).upper()


def _group_id(port_id: str, rules: list[MinimumRule]) -> str:
    return str(uuid.uuid5(uuid.UUID(port_id), ":".join(r.id for r in rules)))


def build(port_id: str, vnic_type: str, rules: Iterable[MinimumRule], segment: tuple[str | None] | None) -> dict[str, Any] | None:
    """The attribute's value. ``segment``: the network's first segment as a 1-tuple of its
    physical network (None for a tunnelled one), or None when the network has no segment (then
    no bandwidth group: there is no trait to place it by)."""
    ordered = sorted(rules, key=lambda r: r.id)
    vnic_trait = custom_trait(f"VNIC_TYPE_{vnic_type}")
    groups = []
    bw = [r for r in ordered if r.type == MINIMUM_BANDWIDTH]
    if bw and segment is not None:
        physnet = segment[0]
        net_trait = custom_trait(f"PHYSNET_{physnet}") if physnet else TUNNEL_TRAIT
        groups.append({"id": _group_id(port_id, bw), "required": [net_trait, vnic_trait],
                       "resources": {BW_CLASSES[r.direction]: r.value for r in bw}})  # fmt: skip
    pps = [r for r in ordered if r.type == MINIMUM_PACKET_RATE]
    if pps:
        groups.append({"id": _group_id(port_id, pps), "required": [vnic_trait],
                       "resources": {PPS_CLASSES[r.direction]: r.value for r in pps}})  # fmt: skip
    if not groups:
        return None
    return {"request_groups": groups, "same_subtree": [g["id"] for g in groups]}
