"""Which netdev type the lab gives an OVS port it plugs on the userspace datapath.

On the userspace datapath vswitchd reads and writes a kernel device through an AF_PACKET socket
by default (OVS's ``system`` type): one ``recvmsg`` and one ``sendmsg`` per packet, which is
what bounds a TCP stream there when packets cannot be offloaded (docs/dataplane.md,
"Performance of the userspace datapath"). OVS built with AF_XDP (Debian's is) also offers
``afxdp`` and ``afxdp-nonpmd``: an XDP program on the device hands frames to an AF_XDP socket in
shared memory. ``afxdp-nonpmd`` is polled by vswitchd's main thread as AF_PACKET ports are, so
no PMD thread busy-polls a core (a lab runs one vswitchd per emulated host on a few cores); it
costs nothing when idle. The lab plugs what os-vif and the operator plug on real hosts:
instances' ports and the hosts' wires; the agents' own DHCP and router ports stay AF_PACKET.

AF_XDP is taken only where the lab file asks for it (``defaults.ovs_port_type: afxdp``) and it
is safe (docs/dataplane.md, "AF_XDP ports"):

- the userspace datapath (the kernel datapath has no such ports);
- vswitchd lists ``afxdp-nonpmd`` among its ``iface_types`` (built with AF_XDP);
- the port carries no offloaded packets: AF_XDP frames have no virtio-net header, so a TSO or
  partial-checksum packet (userspace TSO) would be dropped or leave with a wrong checksum;
- the MTU fits an AF_XDP frame (4 KB frames, less OVS's and XDP's headroom): not a jumbo link.

Pure: the caller reads the facts (``dataplane/offloads.py``) and applies the answer. It lives
beside the agent's offload decision (``offloads.py``), which the lab takes the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

AFXDP = "afxdp-nonpmd"
AFXDP_OPTIONS = {"xdp-mode": "generic"}
"""Generic (skb) mode: veths and taps have no native XDP with AF_XDP zero copy, and generic mode
works on any device."""
AFXDP_MAX_MTU = 3000
"""Below what fits a 4096-byte umem frame after OVS's 128 and XDP's 256 bytes of headroom, with
room to spare: a 9000-byte jumbo underlay stays AF_PACKET."""
ASK_AFXDP = "afxdp"
"""The lab file's ``defaults.ovs_port_type`` that asks for AF_XDP (the other value: ``system``)."""
KERNEL_DEVICE_TYPES = ("", "system", "afxdp", AFXDP)
"""Interface types whose row is a kernel device (a NIC or a veth), whatever socket reads it."""


@dataclass(frozen=True)
class PortType:
    """``iface_type`` None: OVS's default (AF_PACKET); ``reason`` says why, for the log."""

    iface_type: str | None
    options: dict[str, str] = field(default_factory=dict)
    reason: str = ""


def choose(setting: str, *, datapath: str, iface_types: frozenset[str], mtu: int | None, offloaded: bool) -> PortType:
    """The type of one port: ``setting`` is the lab file's, ``datapath`` the bridge's,
    ``iface_types`` vswitchd's, ``mtu`` the device's, ``offloaded`` whether packets with TSO or
    a partial checksum reach it from the kernel side (the instance, the plug's qvb, a wire)."""
    if setting != ASK_AFXDP:
        return PortType(None, reason="AF_PACKET: the lab file's ovs_port_type")
    if datapath != "netdev":
        return PortType(None, reason="the kernel datapath reads its ports in the kernel")
    if AFXDP not in iface_types:
        return PortType(None, reason=f"AF_PACKET: this vswitchd has no {AFXDP} ports (built without AF_XDP)")
    if offloaded:
        return PortType(None, reason="AF_PACKET: the port carries offloaded packets (userspace TSO), which AF_XDP cannot")
    if mtu is not None and mtu > AFXDP_MAX_MTU:
        return PortType(None, reason=f"AF_PACKET: MTU {mtu} is above what an AF_XDP frame holds ({AFXDP_MAX_MTU})")
    return PortType(AFXDP, dict(AFXDP_OPTIONS), reason="AF_XDP")

