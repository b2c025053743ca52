"""Whether an emulated instance keeps TX checksum offload and TSO on its eth0 (OVS hosts).

On the userspace datapath OVS forwards a partial checksum as it is unless its userspace TSO is
on, and OVS 3.1 drops offloaded packets it has to tunnel (docs/dataplane.md, "Checksum
offload", "Userspace TSO"). With the hybrid plug the L2 agent decides per port on the plug's
``qvb``, between the instance and OVS, so the instance may keep its offloads wherever the lab's
vswitchd takes them. Plugged straight on br-int there is no device between them: the
instance's own eth0 is what OVS reads, so the lab takes the agent's per-port decision
(``agent/l2/offloads.port_offload``) for the port's network itself, as an operator chooses a
VM image's offload settings for the datapath it runs on.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from neutrino.dataplane.naming import QVB
from neutrino.lab import resolve


def ovs_takes_offloads(lab: resolve.ResolvedLab, host: resolve.ResolvedHost, vm: Any,
                       network: tuple[str | None, int | None] | None = None) -> bool:  # fmt: skip
    """``network``: (network type, MTU) of the port's network, when known (an API port); a
    port plugged straight on br-int without it keeps offloads off. Trunk parents (on a trunk
    bridge) and hand-tagged ports keep them off."""
    if not host.has_ovs or host.linuxbridge or vm.tag is not None or vm.trunk_id:
        return False
    direct = QVB not in vm.devices
    if direct and network is None:
        return False
    from neutrino.lab.realize import offload_decision

    decision = offload_decision(lab, host)
    if not decision.tso_ports:
        return False
    from neutrino.dataplane.offloads import HostOffloads

    if not HostOffloads(host.context).tso_active():
        return False
    if not direct:
        return True  # the agent turns them off on the qvb where OVS cannot take them
    from neutrino.agent.l2.offloads import port_offload

    assert network is not None  # the decision was taken before vswitchd ran: TSO is active, as just read
    return port_offload(dataclasses.replace(decision, tso_active=True), network[0], network[1], lab.mtu)
