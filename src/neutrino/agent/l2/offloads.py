"""Which offloads Open vSwitch can take on this host, decided from detected facts (pure).

The userspace datapath (no openvswitch kernel module) reads ports through packet sockets and,
without userspace TSO, forwards a partial checksum as it is: receivers drop such TCP and UDP.
With ``other_config:userspace-tso-enable=true`` (read once, when ovs-vswitchd starts) it takes
partial checksums and 64 KB segments and lets the kernel finish them on output, which is about
five times faster here. But OVS 3.1 drops every such packet it has to put into a tunnel, and
it cuts the others by the MTU of the port it sends them out of, not by the packet's MSS: a
router that joins networks of different MTUs then gets segments too big for the smaller one,
and TCP across it stalls (docs/dataplane.md, "Userspace TSO"). So TSO is enabled only
where the operator said that no router joins networks of different MTUs (the agent setting
``userspace_tso_ports``) and the OVS version was verified; then a hybrid plug's ``qvb`` hands
OVS offloaded packets where the running vswitchd takes them and the network is not tunnelled;
elsewhere the kernel finishes checksum and segmentation on the ``qvb`` before OVS, honouring
the MSS. The kernel datapath needs none of it. ``agent/l2/offload_applier.py`` applies the
decisions.

Both OVS behaviours are detected, not assumed from a version: ``dataplane/tso_probe.py`` asks
the machine's vswitchd binary (a throwaway instance with TSO on). Where it keeps the sender's
segment size, TSO is safe behind routers and is enabled without ``userspace_tso_ports``; where
it tunnels offloaded packets, ports of tunnelled networks hand it offloaded packets too. OVS
3.1 does neither, so there the operator's setting still decides.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

SETTING = "userspace-tso-enable"
"""The Open_vSwitch table's other_config key (ovs-vswitchd.conf.db(5))."""
TSO_VERIFIED = (3, 1)
"""The oldest OVS whose userspace TSO was measured to work here (docs/dataplane.md)."""
TUNNEL_TYPES = frozenset({"vxlan", "geneve", "gre"})
"""Network types whose frames OVS puts into a tunnel port."""
HYBRID_OVS_END, HYBRID_BRIDGE_END = "qvo", "qvb"


@dataclass(frozen=True)
class SwitchFacts:
    """What was detected on the host (``dataplane/offloads.py`` reads each)."""

    kernel_module: bool
    """The openvswitch kernel module exists: the kernel datapath (``system``) is used."""
    version: tuple[int, ...] | None
    """``ovs-vswitchd --version``; None if it could not be read."""
    setting: str | None
    """The ``userspace-tso-enable`` value in OVSDB now; None if unset."""
    tso_active: bool | None
    """Whether the running vswitchd has userspace TSO on (read from its packet sockets); None
    when it has none yet."""
    keeps_segment_size: bool | None = None
    """The probe: vswitchd forwards an offloaded packet with the sender's segment size (not its
    output port's MTU); None when not probed."""
    tunnels_offloaded: bool | None = None
    """The probe: vswitchd puts an offloaded packet into a VXLAN tunnel (not dropped)."""


@dataclass(frozen=True)
class OffloadDecision:
    datapath_type: str
    write_setting: str | None
    """The value to write to OVSDB, or None to leave the key alone."""
    tso_active: bool
    """The running vswitchd takes offloaded packets."""
    message: str
    """One log line that says what was decided and why."""
    tso_ports: bool = False
    """Instances on flat and VLAN networks may hand it offloaded packets (the operator's
    ``userspace_tso_ports``: no router joins networks of different MTUs; or the probe found
    that vswitchd keeps the sender's segment size)."""
    tso_tunnels: bool = False
    """Instances on tunnelled networks may too (the probe found that vswitchd tunnels them)."""
    cuts_by_mtu: bool = True
    """vswitchd gives an offloaded packet its output port's MTU as segment size (OVS 3.1; the
    probe found otherwise: False). A flat or VLAN network below its wire's MTU then stalls TCP."""


def datapath_for(kernel_module: bool) -> str:
    return "system" if kernel_module else "netdev"


def parse_version(text: str) -> tuple[int, ...] | None:
    """``ovs-vswitchd (Open vSwitch) 3.1.0`` -> (3, 1, 0)."""
    found = re.search(r"Open vSwitch\)\s+(\d+(?:\.\d+)*)", text)
    return tuple(int(part) for part in found.group(1).split(".")) if found else None


def _dotted(version: tuple[int, ...] | None) -> str:
    return ".".join(map(str, version)) if version else "of unknown version"


def _probed(facts: SwitchFacts) -> str:
    if facts.keeps_segment_size is None:
        return ""
    mss = "keeps the sender's segment size" if facts.keeps_segment_size else "cuts by the output port's MTU"
    tunnel = "tunnels offloaded packets" if facts.tunnels_offloaded else "drops offloaded packets into tunnels"
    return f" (probed: {mss}, {tunnel})"


def decide(facts: SwitchFacts, tso_ports: bool = False) -> OffloadDecision:
    """``tso_ports``: the operator's word that no router joins networks of different MTUs. It
    is needed only where the probe did not find that vswitchd keeps the sender's segment size:
    there, with TSO on, vswitchd takes GRO'd packets from a real NIC too and cuts them by its
    output port's MTU, which stalls TCP routed into a network of smaller MTU even when no
    instance offloads; so without it the key is not written."""
    decision = _decide(facts, tso_ports or bool(facts.keeps_segment_size))
    tunnels = bool(facts.tunnels_offloaded) and decision.tso_ports
    return dataclasses.replace(decision, message=decision.message + _probed(facts), tso_tunnels=tunnels,
                               cuts_by_mtu=not facts.keeps_segment_size)  # fmt: skip


def _decide(facts: SwitchFacts, tso_ports: bool) -> OffloadDecision:
    if facts.kernel_module:
        return OffloadDecision("system", None, False, "kernel datapath (openvswitch module present): the kernel "
                               "handles checksum offload and TSO itself; userspace TSO not used")  # fmt: skip
    version = _dotted(facts.version)
    active = bool(facts.tso_active)
    now = "active" if active else "not active"
    if facts.keeps_segment_size is None and (facts.version is None or facts.version < TSO_VERIFIED):
        return OffloadDecision("netdev", None, active, f"userspace datapath, OVS {version}: {SETTING} left alone "
                               f"(userspace TSO verified from {_dotted(TSO_VERIFIED)} on); TSO {now}", tso_ports and active)  # fmt: skip
    if facts.setting is None and not tso_ports:
        return OffloadDecision("netdev", None, active, f"userspace datapath, OVS {version}: userspace TSO not enabled "
                               "(OVS cuts offloaded packets by its output port's MTU, not their MSS: set userspace_tso_ports "
                               "where no router joins networks of different MTUs)")  # fmt: skip
    if facts.setting is None:
        when = "active" if active else "takes effect when ovs-vswitchd restarts"
        return OffloadDecision("netdev", "true", active, f"userspace datapath, OVS {version}: {SETTING}=true written ({when}) "
                               "for instance offloads (userspace_tso_ports or the probe)", True)  # fmt: skip
    if facts.setting.lower() != "true":
        return OffloadDecision("netdev", None, active, f"userspace datapath, OVS {version}: {SETTING}={facts.setting} set "
                               f"by the operator, left alone; TSO {now}", tso_ports)  # fmt: skip
    use = ("; instances use it (userspace_tso_ports or the probe)" if tso_ports
           else "; instances do not use it (no userspace_tso_ports)")  # fmt: skip
    state = "active" if active else "configured, not active until ovs-vswitchd restarts"
    return OffloadDecision("netdev", None, active, f"userspace datapath, OVS {version}: userspace TSO {state}{use}", tso_ports)


def port_offload(decision: OffloadDecision, network_type: str | None, mtu: int | None = None,
                 wire_mtu: int | None = None) -> bool:  # fmt: skip
    """May the bridge end of this port's plug hand OVS packets with a partial checksum or TSO?
    ``mtu``: the port's network's; ``wire_mtu``: its physical network's link (a flat or VLAN
    network below it gets segments cut for the wire where vswitchd cuts by the output MTU:
    docs/dataplane.md, "OVS VXLAN on the userspace datapath")."""
    if decision.datapath_type == "system":
        return True
    if not (decision.tso_active and decision.tso_ports and network_type is not None):
        return False
    if network_type in TUNNEL_TYPES:
        return decision.tso_tunnels
    return not (decision.cuts_by_mtu and mtu and wire_mtu and mtu < wire_mtu)


def bridge_end(vif_name: str) -> str | None:
    """The hybrid plug's kernel side of an OVS port (``qvo<id>`` -> ``qvb<id>``); None otherwise."""
    if vif_name.startswith(HYBRID_OVS_END):
        return HYBRID_BRIDGE_END + vif_name[len(HYBRID_OVS_END):]
    return None


PortPath = tuple  # (OVS port name, network type[, network MTU, physical network])


def wanted_tx(decision: OffloadDecision, ports: list[PortPath], wire_mtus: dict[str, int] | None = None) -> dict[str, bool]:
    """``{bridge-end device: TX offload on?}`` for the (OVS port name, network type, and
    optionally network MTU and physical network) of the wired ports that have a hybrid plug;
    ``wire_mtus``: the MTU of each physical network's link."""
    out = {}
    for vif, network_type, *more in ports:
        dev = bridge_end(vif)
        if dev is not None:
            mtu, physnet = (more + [None, None])[:2]
            out[dev] = port_offload(decision, network_type, mtu, (wire_mtus or {}).get(physnet) if physnet else None)
    return out
