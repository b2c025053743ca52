"""Trunk wiring on an OVS host, as data: which patch ports join each trunk bridge to br-int.

Neutron's OVS trunk driver (docs/neutron-behaviour.md, "Trunks"; docs/dataplane.md, "Trunks"):
the instance's VIF is plugged into a bridge of its own, ``tbr-<trunk id>``, that switches
NORMAL and so is VLAN-aware. The agent joins it to br-int with one patch pair per port of the
trunk:

* the parent: ``tpt-<port>`` on the trunk bridge, an access port of VLAN 0 (untagged frames),
  peer of ``tpi-<port>`` on br-int;
* each subport: ``spt-<port>`` on the trunk bridge, an access port of the subport's
  segmentation id (a frame the instance tags with it leaves the trunk bridge untagged there),
  peer of ``spi-<port>`` on br-int.

The br-int ends carry ``iface-id`` and ``attached-mac`` like any VIF, so the rest of the agent
tags them with their network's local VLAN and reports them up: a subport's VID is thereby
mapped to its network's local VLAN. A trunk whose bridge does not exist (the instance is not
plugged yet, or is gone) gets no patches, and patches of such a bridge are removed from br-int.
Pure: the reconciler reads OVS and applies ``plan``'s result in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from neutrino.contract.desired import TrunkState
from neutrino.dataplane.naming import TRUNK_BRIDGE_PREFIX, trunk_bridge, trunk_patch_ports

PARENT_PREFIX, SUBPORT_PREFIX = "tp", "sp"
INT_SIDE_PREFIXES = ("tpi-", "spi-")
TRUNK_SIDE_PREFIXES = ("tpt-", "spt-")
OWNER_KEY = "neutrino-trunk"
"""external_ids key on both ends: the trunk id (marks the ports as ours, for cleanup and audit)."""


@dataclass(frozen=True)
class Patch:
    bridge: str
    name: str
    peer: str
    port_id: str
    mac: str
    trunk_id: str
    tag: int | None
    """The access VLAN on the trunk bridge side (0 for the parent); None on the br-int side,
    whose tag is the network's local VLAN, set with the other VIFs."""

    def external_ids(self) -> dict[str, str]:
        return {"iface-id": self.port_id, "attached-mac": self.mac, OWNER_KEY: self.trunk_id}


@dataclass(frozen=True)
class PortSeen:
    """What the plan needs of an existing OVS port."""

    name: str
    bridge: str | None
    iface_type: str
    peer: str | None
    tag: int | None
    external_ids: Mapping[str, str] = field(default_factory=dict)


def wanted(trunks: Iterable[TrunkState], bridges: Iterable[str], integration_bridge: str) -> list[Patch]:
    """Both ends of every patch pair of the trunks whose bridge exists."""
    present = set(bridges)
    out: list[Patch] = []
    for trunk in trunks:
        tbr = trunk_bridge(trunk.trunk_id)
        if tbr not in present:
            continue
        members = [(PARENT_PREFIX, trunk.parent_port_id, trunk.parent_mac, 0)]
        members += [(SUBPORT_PREFIX, s.port_id, s.mac_address, s.segmentation_id) for s in trunk.subports]
        for prefix, port_id, mac, tag in members:
            int_name, tbr_name = trunk_patch_ports(prefix, port_id)
            out.append(Patch(integration_bridge, int_name, tbr_name, port_id, mac, trunk.trunk_id, None))
            out.append(Patch(tbr, tbr_name, int_name, port_id, mac, trunk.trunk_id, tag))
    return out


def is_trunk_patch(port: PortSeen, integration_bridge: str) -> bool:
    """A patch port of trunk wiring: on br-int named tpi-/spi-, or on a tbr- bridge named
    tpt-/spt- (the names are Neutron's convention, reserved for this)."""
    if port.iface_type != "patch" or port.bridge is None:
        return False
    if port.bridge == integration_bridge:
        return port.name.startswith(INT_SIDE_PREFIXES)
    return port.bridge.startswith(TRUNK_BRIDGE_PREFIX) and port.name.startswith(TRUNK_SIDE_PREFIXES)


def plan(want: list[Patch], seen: Iterable[PortSeen], integration_bridge: str) -> tuple[list[Patch], list[str]]:
    """(patches to create or correct, trunk patch port names to delete)."""
    have = {p.name: p for p in seen}
    to_add = []
    for patch in want:
        cur = have.get(patch.name)
        ok = (
            cur is not None and cur.bridge == patch.bridge and cur.iface_type == "patch" and cur.peer == patch.peer
            and (patch.tag is None or cur.tag == patch.tag)
            and all(cur.external_ids.get(k) == v for k, v in patch.external_ids().items())
        )
        if not ok:
            to_add.append(patch)
    names = {p.name for p in want}
    to_delete = sorted(p.name for p in have.values() if is_trunk_patch(p, integration_bridge) and p.name not in names)
    return to_add, to_delete
