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
"""

from __future__ import annotations

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
    ``userspace_tso_ports``: no router joins networks of different MTUs)."""


def datapath_for(kernel_module: bool) -> str:
    return "system" if kernel_module else "netdev"


def parse_version(text: str) -> tuple[int, ...] | None:
    """``ovs-vswitchd (Open vSwitch) 3.1.0`` -> (3, 1, 0)."""
    found = re.search(r"Open vSwitch\)\s+(\d+(?:\.\d+)*)", text)
    return tuple(int(part) for part in found.group(1).split(".")) if found else None


def _dotted(version: tuple[int, ...] | None) -> str:
    return ".".join(map(str, version)) if version else "of unknown version"


def decide(facts: SwitchFacts, tso_ports: bool = False) -> OffloadDecision:
    """``tso_ports``: the operator's word that no router joins networks of different MTUs, the
    one fact no host can detect. Without it the key is not written: with TSO on, vswitchd takes
    GRO'd packets from a real NIC too and cuts them by its output port's MTU, which stalls TCP
    routed into a network of smaller MTU even when no instance offloads."""
    if facts.kernel_module:
        return OffloadDecision("system", None, False, "kernel datapath (openvswitch module present): the kernel "
                               "handles checksum offload and TSO itself; userspace TSO not used")  # fmt: skip
    version = _dotted(facts.version)
    active = bool(facts.tso_active)
    now = "active" if active else "not active"
    if facts.version is None or facts.version < TSO_VERIFIED:
        return OffloadDecision("netdev", None, active, f"userspace datapath, OVS {version}: {SETTING} left alone "
                               f"(userspace TSO verified from {_dotted(TSO_VERIFIED)} on); TSO {now}", tso_ports and active)  # fmt: skip
    if facts.setting is None and not tso_ports:
        return OffloadDecision("netdev", None, active, f"userspace datapath, OVS {version}: userspace TSO not enabled "
                               "(OVS cuts offloaded packets by its output port's MTU, not their MSS: set userspace_tso_ports "
                               "where no router joins networks of different MTUs)")  # fmt: skip
    if facts.setting is None:
        when = "active" if active else "takes effect when ovs-vswitchd restarts"
        return OffloadDecision("netdev", "true", active, f"userspace datapath, OVS {version}: {SETTING}=true written ({when}) "
                               "for userspace_tso_ports; instances on tunnelled networks keep TSO off", True)  # fmt: skip
    if facts.setting.lower() != "true":
        return OffloadDecision("netdev", None, active, f"userspace datapath, OVS {version}: {SETTING}={facts.setting} set "
                               f"by the operator, left alone; TSO {now}", tso_ports)  # fmt: skip
    use = ("; instances on flat and VLAN networks use it (userspace_tso_ports)" if tso_ports
           else "; instances do not use it (no userspace_tso_ports)")  # fmt: skip
    state = "active" if active else "configured, not active until ovs-vswitchd restarts"
    return OffloadDecision("netdev", None, active, f"userspace datapath, OVS {version}: userspace TSO {state}{use}", tso_ports)


def port_offload(decision: OffloadDecision, network_type: str | None) -> bool:
    """May the bridge end of this port's plug hand OVS packets with a partial checksum or TSO?"""
    if decision.datapath_type == "system":
        return True
    return decision.tso_active and decision.tso_ports and network_type is not None and network_type not in TUNNEL_TYPES


def bridge_end(vif_name: str) -> str | None:
    """The hybrid plug's kernel side of an OVS port (``qvo<id>`` -> ``qvb<id>``); None otherwise."""
    if vif_name.startswith(HYBRID_OVS_END):
        return HYBRID_BRIDGE_END + vif_name[len(HYBRID_OVS_END):]
    return None


def wanted_tx(decision: OffloadDecision, ports: list[tuple[str, str | None]]) -> dict[str, bool]:
    """``{bridge-end device: TX offload on?}`` for the (OVS port name, network type) of the
    wired ports that have a hybrid plug."""
    out = {}
    for vif, network_type in ports:
        dev = bridge_end(vif)
        if dev is not None:
            out[dev] = port_offload(decision, network_type)
    return out
