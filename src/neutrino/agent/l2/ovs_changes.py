"""What one OVS L2 pass must change in the database: desired (an ``L2Plan``) and actual (the
bridges and ports OVS has) in, a frozen ``L2Changes`` out, with no side effect.

``OvsL2Reconciler.reconcile`` applies it as one transaction, in this order: bridges, patch
ports, tunnel ports added or fixed, tunnel ports removed, VIF tags. An empty ``L2Changes``
means the pass writes nothing to OVSDB. Unit-tested on fakes (tests/unit/test_l2_changes.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from neutrino.agent.l2 import local_vlans, ovs_flows

if TYPE_CHECKING:
    from neutrino.agent.l2.reconciler import L2Config, L2Plan

LV_KEYS = ("net_uuid", "network_type", "physical_network", "tag", "segmentation_id")
"""The VIF port other_config keys that record its local VLAN (read back after a restart)."""


@dataclass(frozen=True)
class PortChange:
    """A patch or tunnel port to add, or to replace when its bridge, type or options differ."""

    bridge: str
    name: str
    iface_type: str
    options: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class TagChange:
    """A VIF's local VLAN tag and the other_config that records it (None: key removed)."""

    name: str
    tag: int
    other_config: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class L2Changes:
    bridges: tuple[str, ...] = ()
    """Bridges to declare (missing, or not secure, or of another datapath type)."""
    ports: tuple[PortChange, ...] = ()
    removed_ports: tuple[str, ...] = ()
    tags: tuple[TagChange, ...] = ()

    @property
    def count(self) -> int:
        """The number of OVSDB commands (0: nothing to write)."""
        return len(self.bridges) + len(self.ports) + len(self.removed_ports) + len(self.tags)


def bridges_wanted(cfg: L2Config, tunnel_type: str | None) -> list[str]:
    """br-int, the physical network bridges and br-tun when tunnelling, each once."""
    names = [cfg.integration_bridge, *cfg.bridge_mappings.values()] + ([cfg.tunnel_bridge] if tunnel_type else [])
    return list(dict.fromkeys(names))


def changes(cfg: L2Config, tunnel_type: str | None, plan: L2Plan, bridges: Mapping[str, Any | None],
            all_ports: Iterable[Any]) -> L2Changes:  # fmt: skip
    """The OVSDB changes that bring ``bridges`` (name -> its row, None when absent) and
    ``all_ports`` to ``plan``."""
    all_ports = list(all_ports)
    declare = tuple(
        name for name in bridges_wanted(cfg, tunnel_type)
        if (info := bridges.get(name)) is None or info.fail_mode != "secure" or info.datapath_type != cfg.datapath_type
    )  # fmt: skip
    ports: list[PortChange] = []
    for bridge, port, peer in ovs_flows.patch_ports_needed(plan.layout):
        have = plan.by_name.get(port)
        if have is None or have.bridge != bridge or have.iface_type != "patch" or have.iface_options.get("peer") != peer:
            ports.append(PortChange(bridge, port, "patch", (("peer", peer),)))
    removed: list[str] = []
    if tunnel_type:
        for ip, name in plan.tunnel_ports.items():
            opts = ovs_flows.tunnel_port_options(ip, cfg.local_ip or "", tunnel_type)
            have = plan.by_name.get(name)
            if have is None or have.bridge != cfg.tunnel_bridge or have.iface_options != opts:
                ports.append(PortChange(cfg.tunnel_bridge, name, tunnel_type, tuple(opts.items())))
        wanted_tunnels = set(plan.tunnel_ports.values())
        removed = [p.name for p in all_ports
                   if p.bridge == cfg.tunnel_bridge and p.iface_type == tunnel_type and p.name not in wanted_tunnels]  # fmt: skip
    return L2Changes(declare, tuple(ports), tuple(removed), tuple(_tags(plan)))


def _tags(plan: L2Plan) -> list[TagChange]:
    """Each wanted VIF its network's local VLAN; every other plugged VIF the dead VLAN."""
    out = []
    for port_id, vif in plan.vifs.items():
        port = plan.wanted.get(port_id)
        if port is not None:
            vlan = plan.vlans[port.network_id]
            other = local_vlans.port_other_config(vlan)
            want = tuple((k, other.get(k)) for k in LV_KEYS)
            if vif.tag != vlan.lvid or any(vif.port_other_config.get(k) != v for k, v in want):
                out.append(TagChange(vif.name, vlan.lvid, want))
        elif vif.tag != local_vlans.DEAD_VLAN or any(k in vif.port_other_config for k in LV_KEYS):
            out.append(TagChange(vif.name, local_vlans.DEAD_VLAN, tuple((k, None) for k in LV_KEYS)))
    return out
