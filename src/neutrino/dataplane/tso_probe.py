"""Ask this machine's ovs-vswitchd what it does with offloaded TCP, instead of assuming it.

Two questions decide where userspace TSO is safe (docs/dataplane.md, "Userspace TSO"): does
vswitchd keep the segment size of an offloaded packet it forwards (OVS 3.1 writes its output
port's MTU instead, which stalls TCP routed into a network of smaller MTU), and does it put an
offloaded packet into a VXLAN tunnel (OVS 3.1 drops it)? No command answers either, so the
probe asks the binary itself: a throwaway ovsdb-server and ovs-vswitchd with
``userspace-tso-enable=true`` in a namespace of their own (nothing of a host is touched), a
bridge between two veths and a VXLAN port whose remote is reached through the bridge, then one
TCP packet of three segments with a partial checksum sent through a packet socket with a
virtio-net header. What comes out of the other veth says it: the segment size in its header, or
a VXLAN datagram. A plain packet sent into the tunnel first proves the tunnel path works, so a
missing datagram means "dropped", not "probe broken". Everything is removed afterwards, also on
errors. The frames and headers are pure functions, unit-tested.
"""

from __future__ import annotations

import logging
import os
import select
import shutil
import socket
import struct
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from neutrino.dataplane import exec as programs
from neutrino.dataplane.errors import DataplaneError
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.in_netns import call_in

SOL_PACKET, PACKET_VNET_HDR, ETH_P_ALL = 263, 15, 3
VNET_HDR = struct.Struct("=BBHHHH")  # flags, gso_type, hdr_len, gso_size, csum_start, csum_offset
NEEDS_CSUM, GSO_TCPV4 = 1, 1
SENT_SEGMENT = 700
"""The sender's segment size: smaller than any MTU vswitchd could write instead."""
PAYLOAD = 3 * SENT_SEGMENT
DIRECT_PORT, TUNNEL_PORT = 5201, 5202
"""TCP destination ports the probe bridge's flows steer: to the other veth, into the tunnel."""
VXLAN_UDP = 4789
LOG = logging.getLogger(__name__)
LOCAL_IP, REMOTE_IP, REMOTE_MAC = "198.51.100.1", "198.51.100.2", "02:00:5e:00:00:02"
"""Tunnel ends on the probe's own bridge (TEST-NET-2, only inside the probe's namespace)."""


@dataclass(frozen=True)
class ProbeResult:
    keeps_segment_size: bool
    """An offloaded packet leaves with the sender's segment size (False: the output MTU's)."""
    tunnels_offloaded: bool
    """An offloaded packet is put into a VXLAN tunnel (False: dropped)."""
    version: str
    """``ovs-vswitchd --version``'s first line: what was probed."""


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total >> 16) + (total & 0xFFFF)
    return total


def tcp_frame(dst_port: int, payload: int, segment: int | None) -> tuple[bytes, bytes]:
    """(virtio-net header, Ethernet frame) of one IPv4 TCP packet. ``segment``: offloaded, with
    a partial checksum (the pseudo-header's sum, as the kernel leaves it) and that segment size;
    None: a finished packet, checksum filled in, no offload."""
    src_ip, dst_ip = socket.inet_aton("192.0.2.1"), socket.inet_aton("192.0.2.2")
    tcp_len = 20 + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + tcp_len, 1, 0x4000, 64, 6, 0, src_ip, dst_ip)
    ip = ip[:10] + struct.pack("!H", ~_checksum(ip) & 0xFFFF) + ip[12:]
    pseudo = struct.pack("!4s4sBBH", src_ip, dst_ip, 0, 6, tcp_len)
    body = b"p" * payload
    tcp = struct.pack("!HHIIBBHHH", 40000, dst_port, 1, 0, 5 << 4, 0x18, 65535, 0, 0)
    if segment is None:
        check = ~_checksum(pseudo + tcp + body) & 0xFFFF
        vnet = VNET_HDR.pack(0, 0, 0, 0, 0, 0)
    else:
        check = _checksum(pseudo)
        vnet = VNET_HDR.pack(NEEDS_CSUM, GSO_TCPV4, 14 + 20 + 20, segment, 14 + 20, 16)
    tcp = tcp[:16] + struct.pack("!H", check) + tcp[18:]
    eth = bytes.fromhex("02005e000010") + bytes.fromhex("02005e000011") + b"\x08\x00"
    return vnet, eth + ip + tcp + body


@dataclass(frozen=True)
class Seen:
    """One frame read with its virtio-net header."""

    gso_size: int
    tcp_dst: int | None
    udp_dst: int | None


def parse(data: bytes) -> Seen | None:
    """A packet socket's read (virtio-net header + frame) -> what the probe looks at; None for
    anything but IPv4 TCP or UDP."""
    if len(data) < VNET_HDR.size + 14 + 20 + 4:
        return None
    gso_size = VNET_HDR.unpack_from(data)[3]
    frame = data[VNET_HDR.size:]
    if frame[12:14] != b"\x08\x00":
        return None
    ihl = (frame[14] & 0x0F) * 4
    proto = frame[14 + 9]
    dst = struct.unpack_from("!H", frame, 14 + ihl + 2)[0]
    return Seen(gso_size, dst if proto == 6 else None, dst if proto == 17 else None)


def judge(direct: list[Seen], control: list[Seen], tunnelled: list[Seen], version: str) -> ProbeResult | None:
    """What the frames read after each send say; None when the probe's own path did not work
    (nothing came through directly, or a plain packet did not come out of the tunnel)."""
    through = [s for s in direct if s.tcp_dst == DIRECT_PORT]
    if not through or not any(s.udp_dst == VXLAN_UDP for s in control):
        return None
    keeps = all(s.gso_size in (0, SENT_SEGMENT) for s in through) and (
        any(s.gso_size == SENT_SEGMENT for s in through) or len(through) > 1)  # fmt: skip
    return ProbeResult(keeps, any(s.udp_dst == VXLAN_UDP for s in tunnelled), version)


def _exchange(tx_dev: str, rx_dev: str, sends: list[tuple[bytes, bytes]], wait: float) -> list[list[Seen]]:
    """In the probe namespace: per send, the frames read on ``rx_dev`` within ``wait`` seconds."""
    out = []
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    try:
        for sock, dev in ((tx, tx_dev), (rx, rx_dev)):
            sock.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
            sock.bind((dev, 0))
        for vnet, frame in sends:
            tx.send(vnet + frame)
            seen: list[Seen] = []
            deadline = time.monotonic() + wait
            while (left := deadline - time.monotonic()) > 0:
                if select.select([rx], [], [], left)[0]:
                    found = parse(rx.recv(65600))
                    if found is not None:
                        seen.append(found)
            out.append(seen)
    finally:
        tx.close()
        rx.close()
    return out


def run(version: str, timeout: float = 10.0) -> ProbeResult | None:
    """Probe this machine's ovs-vswitchd (``version``: its ``--version`` line, recorded in the
    result); None when the probe could not tell."""
    from neutrino.dataplane.ovs import OvsInstance

    run_id = uuid.uuid4().hex[:8]
    netns = f"nt-tsoprobe-{run_id}"
    workdir = Path(tempfile.mkdtemp(prefix="nt-tso-", dir="/tmp"))
    host = HostContext(name="tso-probe", netns=netns, ovs_dir=workdir)
    switch = OvsInstance(host)
    vsctl = ["ovs-vsctl", f"--db={host.ovsdb_remote}", f"--timeout={int(timeout)}"]
    try:
        programs.run(["ip", "netns", "add", netns])
        programs.run(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"],
                     netns=netns)  # fmt: skip
        for a, b in (("pa", "pa-ovs"), ("pb", "pb-ovs")):
            programs.run(["ip", "-n", netns, "link", "add", a, "type", "veth", "peer", "name", b])
        for dev in ("lo", "pa", "pa-ovs", "pb", "pb-ovs"):
            programs.run(["ip", "-n", netns, "link", "set", dev, "up"])
        switch.start(timeout, other_config={"userspace-tso-enable": "true"})
        programs.run([*vsctl, "add-br", "br-probe", "--", "set", "Bridge", "br-probe", "datapath_type=netdev",
                      "--", "add-port", "br-probe", "pa-ovs", "--", "add-port", "br-probe", "pb-ovs",
                      "--", "add-port", "br-probe", "vx-probe", "--", "set", "Interface", "vx-probe", "type=vxlan",
                      f"options:remote_ip={REMOTE_IP}", f"options:local_ip={LOCAL_IP}", "options:key=7"],
                     env=host.ovs_env, timeout=timeout)  # fmt: skip
        programs.run(["ip", "-n", netns, "addr", "add", f"{LOCAL_IP}/30", "dev", "br-probe"])
        programs.run(["ip", "-n", netns, "link", "set", "br-probe", "up"])
        flows = (f"priority=10,tcp,in_port=pa-ovs,tp_dst={DIRECT_PORT},actions=output:pb-ovs\n"
                 f"priority=10,tcp,in_port=pa-ovs,tp_dst={TUNNEL_PORT},actions=output:vx-probe\n"
                 "priority=10,in_port=LOCAL,actions=output:pb-ovs\npriority=1,actions=drop\n")  # fmt: skip
        programs.run(["ovs-ofctl", "add-flows", f"unix:{workdir / 'br-probe.mgmt'}", "-"], input=flows,
                     env=host.ovs_env, timeout=timeout)  # fmt: skip
        switch.appctl("tnl/arp/set", "br-probe", REMOTE_IP, REMOTE_MAC, timeout=timeout)
        control: list[Seen] = []
        deadline = time.monotonic() + timeout / 2
        while not any(s.udp_dst == VXLAN_UDP for s in control) and time.monotonic() < deadline:
            control = call_in(netns, lambda: _exchange("pa", "pb", [tcp_frame(TUNNEL_PORT, 100, None)], 0.3))[0]
        sends = [tcp_frame(DIRECT_PORT, PAYLOAD, SENT_SEGMENT), tcp_frame(TUNNEL_PORT, PAYLOAD, SENT_SEGMENT)]
        direct, tunnelled = call_in(netns, lambda: _exchange("pa", "pb", sends, 1.0))
        found = judge(direct, control, tunnelled, version)
        LOG.info("userspace TSO probe of %s: %s (direct %s, control %s, tunnelled %s)", version, found, direct,
                 control[:1], tunnelled[:1])  # fmt: skip
        return found
    except (DataplaneError, OSError) as exc:
        LOG.warning("userspace TSO probe of %s could not run: %s", version, exc)
        return None
    finally:
        try:
            switch.stop()
        finally:
            programs.run(["ip", "netns", "del", netns], check=False)
            shutil.rmtree(workdir, ignore_errors=True)


def cached(version: str, cache: Path, timeout: float = 10.0) -> ProbeResult | None:
    """``run`` once per vswitchd version on this machine: the answer is the binary's, kept in
    ``cache`` (a JSON file, replaced atomically) so that agents and labs started later do not
    start a throwaway vswitchd again."""
    import json

    try:
        known = json.loads(cache.read_text())
        if known.get("version") == version:
            return ProbeResult(bool(known["keeps_segment_size"]), bool(known["tunnels_offloaded"]), version)
    except (OSError, ValueError, KeyError):
        pass
    result = run(version, timeout)
    if result is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_name(f"{cache.name}.{os.getpid()}")
            tmp.write_text(json.dumps(result.__dict__))
            tmp.replace(cache)
        except OSError:
            pass
    return result
