"""VLAN subinterfaces without the kernel's 8021q module: a userspace VLAN demultiplexer.

Why: a VLAN-aware instance (a trunk's parent port) sends and receives 802.1Q frames on its NIC,
and this machine's kernel has no 8021q (no ``ip link add ... type vlan``), no bridge
vlan_filtering and no tc vlan action (docs/dataplane.md, "Trunks"). So inside the instance this
helper opens a raw packet socket on the NIC and one TAP device per VLAN id (``eth0.<vid>``):
a frame the kernel sends on the TAP leaves the NIC tagged with the VID, and a frame arriving on
the NIC with that VID (the tag in-band, or stripped into the packet's auxiliary data as the
kernel does on receive) is written to the TAP untagged. Untagged traffic stays on the NIC, where
the kernel handles it as usual. The TAP devices are the kernel's own network devices, so TCP,
UDP, ARP, iperf3 and tcpdump work on them as on a VLAN subinterface.

Run inside the instance's namespace: ``python -m neutrino.tools.vlanhelper eth0 101 102``;
prints ``ready`` once the TAP devices exist, and runs until killed (the devices go with it).
A subport added to the trunk later is a new VID: ``python -m neutrino.tools.vlanhelper --add eth0
103``, run in the same namespace, asks the running helper over its control socket (an abstract
Unix socket, so private to the namespace) to open ``eth0.103`` too, and returns once it exists.
Standard library only. ``push_tag``/``pop_tag`` and the control protocol are pure and unit-tested.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import select
import socket
import struct
import sys

ETH_P_ALL = 0x0003
TPID = 0x8100
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 1 << 4
AUXDATA = struct.Struct("IIIHHHH")  # struct tpacket_auxdata
TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000


def push_tag(frame: bytes, vid: int) -> bytes:
    """The frame with an 802.1Q header (priority 0) after the two MAC addresses."""
    return frame[:12] + struct.pack("!HH", TPID, vid & 0x0FFF) + frame[12:]


def pop_tag(frame: bytes, aux_tci: int | None = None) -> tuple[int | None, bytes]:
    """(VID, untagged frame): from the auxiliary data when the kernel stripped the tag on
    receive, else from an in-band 802.1Q header; (None, frame) when the frame is untagged."""
    if aux_tci is not None:
        return aux_tci & 0x0FFF, frame
    if len(frame) >= 18 and int.from_bytes(frame[12:14], "big") == TPID:
        return int.from_bytes(frame[14:16], "big") & 0x0FFF, frame[:12] + frame[16:]
    return None, frame


def control_address(nic: str) -> str:
    """The helper's control socket: abstract (leading NUL), so each network namespace has its own."""
    return f"\0neutrino-vlanhelper-{nic}"


def parse_add(line: bytes) -> list[int]:
    """The VIDs of a control request ``add VID...``; ValueError when it is not one."""
    words = line.decode("ascii", "replace").split()
    if len(words) < 2 or words[0] != "add" or not all(w.isdigit() and 1 <= int(w) <= 4094 for w in words[1:]):
        raise ValueError(f"not a request: {line!r}")
    return [int(w) for w in words[1:]]


def open_tap(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def _aux_tci(ancdata: list[tuple[int, int, bytes]]) -> int | None:
    for level, kind, data in ancdata:
        if level == SOL_PACKET and kind == PACKET_AUXDATA and len(data) >= AUXDATA.size:
            status, _, _, _, _, tci, _ = AUXDATA.unpack_from(data)
            if status & TP_STATUS_VLAN_VALID:
                return int(tci)
    return None


def _deliver(tap: int, frame: bytes) -> None:
    """Hand ``frame`` to a TAP device. Until the device is up the kernel refuses it (EIO): a frame
    for a VLAN interface not yet up is dropped, as a NIC that is down drops it, and the helper
    keeps running (before, a broadcast arriving between "ready" and the link coming up ended it
    and took the TAP devices with it)."""
    try:
        os.write(tap, frame)
    except OSError:
        pass


def _serve_control(control: socket.socket, nic: str, taps: dict[int, int], by_fd: dict[int, int]) -> None:
    """One request on the control socket: open the TAP devices of new VIDs, answer ``ok``."""
    conn, _ = control.accept()
    with conn:
        conn.settimeout(5)
        try:
            vids = parse_add(conn.recv(512))
            for vid in vids:
                if vid not in taps:
                    taps[vid] = open_tap(f"{nic}.{vid}")
                    by_fd[taps[vid]] = vid
            conn.sendall(b"ok\n")
        except (OSError, ValueError) as exc:
            try:
                conn.sendall(f"error {exc}\n".encode())
            except OSError:
                pass


def run(nic: str, vids: list[int]) -> int:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    sock.bind((nic, ETH_P_ALL))
    control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    control.bind(control_address(nic))
    control.listen(4)
    taps = {vid: open_tap(f"{nic}.{vid}") for vid in vids}
    by_fd = {fd: vid for vid, fd in taps.items()}
    print("ready", flush=True)
    space = socket.CMSG_SPACE(AUXDATA.size)
    while True:
        readable, _, _ = select.select([sock, control, *taps.values()], [], [])
        for source in readable:
            if source is control:
                _serve_control(control, nic, taps, by_fd)
            elif source is sock:
                frame, ancdata, _, addr = sock.recvmsg(65535, space)
                if addr[2] == PACKET_OUTGOING:
                    continue
                vid, inner = pop_tag(frame, _aux_tci(ancdata))
                if vid is not None and vid in taps:
                    _deliver(taps[vid], inner)
            else:
                frame = os.read(source, 65535)
                try:
                    sock.send(push_tag(frame, by_fd[source]))
                except OSError:  # the NIC is down or gone for a moment: the frame is lost, as on a wire
                    pass


def add(nic: str, vids: list[int]) -> int:
    """Ask the helper running on ``nic`` in this namespace for more VIDs; 0 once they exist,
    1 when no helper answers (then nothing changed)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(10)
        try:
            conn.connect(control_address(nic))
            conn.sendall(("add " + " ".join(str(v) for v in vids)).encode())
            answer = conn.recv(512).decode(errors="replace").strip()
        except OSError as exc:
            print(f"no VLAN helper on {nic}: {exc}", file=sys.stderr)
            return 1
    if answer != "ok":
        print(answer or "no answer", file=sys.stderr)
        return 1
    print("ok", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vlanhelper", description=__doc__.splitlines()[0])
    parser.add_argument("--add", action="store_true", help="ask the helper running on NIC for more VIDs")
    parser.add_argument("nic")
    parser.add_argument("vids", nargs="+", type=int)
    args = parser.parse_args(argv)
    if any(not 1 <= v <= 4094 for v in args.vids):
        parser.error("VLAN ids are 1-4094")
    return add(args.nic, args.vids) if args.add else run(args.nic, args.vids)


if __name__ == "__main__":
    sys.exit(main())
