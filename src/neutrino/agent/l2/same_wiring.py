"""Whether two desired states ask the same of OVS (pure): the L2 pass's shortcut.

The OVS side of a pass (bridges, patch and tunnel ports, VIF tags, flows, meters, offloads,
trunk patches) reads the ports' binding (network, segment, admin state, MAC, addresses, QoS,
...), the tunnel peers, the remote ports and the trunks of the desired state, and what OVSDB
holds. The security groups' rules and the remote groups' members are read by the firewall
alone. So when only they changed (a port joined or left a group, a rule was added or removed)
and OVSDB did not change either, the pass has nothing to do on OVS and applies the firewall
only (``OvsL2Reconciler.reconcile``): at a thousand hosts a member joining a group used on
half of them wakes 500 hosts, and reading OVSDB and planning flows was most of each one's pass.
"""

from __future__ import annotations

from dataclasses import replace

from neutrino.contract.desired import DesiredHostState


def same_wiring(old: DesiredHostState, new: DesiredHostState) -> bool:
    """True when ``new`` differs from ``old`` at most in its ports' ``rules`` and in
    ``remote_groups`` (and the fingerprint)."""
    if old is new:
        return True
    for a, b in ((old.tunnel_peers, new.tunnel_peers), (old.remote_ports, new.remote_ports), (old.trunks, new.trunks)):
        if a is not b and a != b:
            return False
    if old.local_tunnel_ip != new.local_tunnel_ip or len(old.ports) != len(new.ports):
        return False
    for a, b in zip(old.ports, new.ports):  # both sorted by port id (the projection's and the merge's order)
        if a is not b and (a.rules is b.rules or replace(b, rules=a.rules) != a):
            return False
    return True
