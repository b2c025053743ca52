"""The netdev type of the OVS ports the lab plugs: instances' ports and the hosts' wires.

The decision is ``agent/l2/ovs_port_types.choose`` (AF_XDP where the lab file asks for it and
it is safe, else AF_PACKET); this module reads its facts for a host (vswitchd's ``iface_types``,
only when AF_XDP is asked for) and checks the outcome: a port vswitchd could not open as AF_XDP
(a kernel without XDP sockets, a device that refuses the program) goes back to AF_PACKET with a
log line, so the lab works wherever OVS does (docs/dataplane.md, "AF_XDP ports").
"""

from __future__ import annotations

import logging
from typing import Any

from neutrino.agent.l2.ovs_port_types import AFXDP, ASK_AFXDP, PortType, choose
from neutrino.lab import resolve

log = logging.getLogger(__name__)


def port_type(lab: resolve.ResolvedLab, host: resolve.ResolvedHost, *, mtu: int | None, offloaded: bool) -> PortType:
    """The type of one port the lab plugs on ``host``'s OVS."""
    iface_types: frozenset[str] = frozenset()
    if lab.ovs_port_type == ASK_AFXDP and host.datapath == "netdev":
        from neutrino.dataplane.offloads import HostOffloads

        iface_types = HostOffloads(host.context).iface_types()
    return choose(lab.ovs_port_type, datapath=host.datapath, iface_types=iface_types, mtu=mtu, offloaded=offloaded)


def _tso_decision(lab: resolve.ResolvedLab, host: resolve.ResolvedHost) -> Any:
    """The agents' offload decision for ``host`` when its vswitchd runs (or will run, as the lab
    writes the key before starting it) with userspace TSO; None otherwise."""
    from neutrino.lab.realize import offload_decision

    decision = offload_decision(lab, host)
    return decision if decision.tso_active or decision.write_setting == "true" else None


def wire_offloaded(lab: resolve.ResolvedLab, host: resolve.ResolvedHost, wire: resolve.Wire) -> bool:
    """Does ``wire`` carry offloaded packets: a physical network's wire on a host whose vswitchd
    runs with userspace TSO, or its tunnel wire where vswitchd also tunnels offloaded packets."""
    decision = _tso_decision(lab, host)
    if decision is None:
        return False
    return bool(decision.tso_tunnels) if wire.bridge == resolve.TUNNEL_BRIDGE else True


def vif_offloaded(lab: resolve.ResolvedLab, host: resolve.ResolvedHost, *, hybrid: bool,
                  network: tuple[str | None, int | None] | None, instance_offloads: bool) -> bool:  # fmt: skip
    """Do packets with TSO or a partial checksum reach an instance's OVS port? Plugged straight,
    OVS reads the instance's eth0 (``instance_offloads``); with the hybrid plug it reads the
    plug's ``qvb``, whose TX offload the L2 agent sets by ``offloads.port_offload`` for the
    port's network (off wherever vswitchd runs without userspace TSO; on where it cannot tell)."""
    if not hybrid:
        return instance_offloads
    decision = _tso_decision(lab, host)
    if decision is None:
        return False
    if network is None:
        return True
    import dataclasses

    from neutrino.agent.l2.offloads import port_offload

    return port_offload(dataclasses.replace(decision, tso_active=True), network[0], network[1], lab.mtu)


def fall_back(host: resolve.ResolvedHost, names: list[str]) -> list[str]:
    """Those of ``names`` (plugged as AF_XDP) that vswitchd could not open go back to AF_PACKET;
    returns them."""
    if not names:
        return []
    from neutrino.dataplane.offloads import HostOffloads

    adapter = HostOffloads(host.context)
    failed = adapter.interface_errors(names)
    for name, error in sorted(failed.items()):
        log.warning("%s: %s could not be opened as %s (%s): plugged as AF_PACKET instead", host.name, name, AFXDP, error)
        adapter.set_interface_type(name, "system")
    return sorted(failed)
