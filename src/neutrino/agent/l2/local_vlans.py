"""Local VLANs: the host-private VLAN id (lvid) that stands for a network inside br-int.

br-int switches by VLAN, so every network present on a host gets a tag in 1..4094 that means
something only on that host; flows translate it to the segment on the wire (VLAN id, untagged,
VNI). Neutron persists the choice on each bound VIF's OVS Port row (``tag`` and ``other_config``
keys net_uuid, network_type, physical_network, tag, segmentation_id) and rebuilds its map from
there after a restart (docs/neutron-behaviour.md, "Local VLANs"). ``allocate`` therefore keeps every lvid it
is told already exists, so an agent restart retags nothing and drops no traffic.

Pure functions: the reconciler reads OVS, calls these, and writes the result back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from neutrino.contract.desired import Segment

DEAD_VLAN = 4095
"""Tag of unbound / admin-down ports; br-int table 0 drops it (Neutron's DEAD_VLAN_TAG)."""
MIN_LVID, MAX_LVID = 1, 4094


class LocalVlansExhausted(RuntimeError):
    """More networks on this host than local VLAN ids (4094): the host cannot carry another one."""


@dataclass(frozen=True)
class LocalVlan:
    network_id: str
    lvid: int
    network_type: str
    physical_network: str | None
    segmentation_id: int | None


def valid_lvid(lvid: int) -> bool:
    return MIN_LVID <= lvid <= MAX_LVID


def allocate(networks: Mapping[str, Segment], existing: Mapping[str, int]) -> dict[str, LocalVlan]:
    """network_id -> LocalVlan for every network in ``networks``.

    An lvid in ``existing`` (read back from OVS) is kept while its network is still wanted, and
    while it is valid and not claimed by another network (a corrupt or out-of-range tag is
    reassigned; of two networks claiming one lvid the smaller network id keeps it, for
    determinism). New networks get the lowest free id, in network id order. Networks not in
    ``networks`` are dropped, which frees their ids. Raises ``LocalVlansExhausted`` past 4094.
    """
    kept: dict[str, int] = {}
    taken: set[int] = set()
    for network_id in sorted(existing):
        lvid = existing[network_id]
        if network_id in networks and valid_lvid(lvid) and lvid not in taken:
            kept[network_id] = lvid
            taken.add(lvid)
    free = (lvid for lvid in range(MIN_LVID, MAX_LVID + 1) if lvid not in taken)
    for network_id in sorted(networks):
        if network_id not in kept:
            lvid = next(free, None)
            if lvid is None:
                raise LocalVlansExhausted(
                    f"no free local VLAN for network {network_id}: all {MAX_LVID} ids in use on this host"
                )
            kept[network_id] = lvid
    return {
        network_id: LocalVlan(network_id, kept[network_id], seg.network_type, seg.physical_network, seg.segmentation_id)
        for network_id, seg in sorted(networks.items())
    }


def port_other_config(lv: LocalVlan) -> dict[str, str]:
    """The Port ``other_config`` Neutron writes on a bound VIF (all values strings, as OVSDB maps
    hold them): net_uuid, network_type, physical_network ("None" when none), tag and, only when
    there is one, segmentation_id."""
    out = {
        "net_uuid": lv.network_id,
        "network_type": lv.network_type,
        "physical_network": str(lv.physical_network),
        "tag": str(lv.lvid),
    }
    if lv.segmentation_id is not None:
        out["segmentation_id"] = str(lv.segmentation_id)
    return out


def parse_other_config(other_config: Mapping[str, str]) -> tuple[str, int] | None:
    """(network_id, lvid) from a Port's ``other_config``, or None when it does not carry a usable
    mapping (a port we never bound, a foreign one, a garbled or out-of-range tag)."""
    network_id, tag = other_config.get("net_uuid"), other_config.get("tag")
    if not network_id or tag is None:
        return None
    try:
        lvid = int(tag)
    except ValueError:
        return None
    return (network_id, lvid) if valid_lvid(lvid) else None


def existing_lvids(other_configs: Iterable[Mapping[str, str]]) -> dict[str, int]:
    """network_id -> lvid from the ``other_config`` of all Ports of br-int (the restart case).

    Ports of one network normally agree; if they disagree (a crash mid-retag) the smallest lvid
    wins, so the answer does not depend on the order OVS lists ports in."""
    out: dict[str, int] = {}
    for config in other_configs:
        parsed = parse_other_config(config)
        if parsed is not None:
            network_id, lvid = parsed
            out[network_id] = min(lvid, out.get(network_id, lvid))
    return out
