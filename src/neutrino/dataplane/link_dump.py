"""Every link's name and MAC address from one raw RTM_GETLINK dump, decoding nothing else.

pyroute2 decodes every attribute of every link it reads (statistics, link info, the AF_SPEC
tree): with 500 hybrid ports that is about 1,000 links and a second or more of CPU on a loaded
machine, for a pass that needs two fields of each (``agent/l2/offload_applier.py``, after an
agent restart). This reads the dump's bytes and walks only the top-level attributes for
IFLA_IFNAME and IFLA_ADDRESS. The dump runs on a thread switched into ``netns``
(``in_netns.call_in``), where the socket is opened, so it lists that namespace's links.
"""

from __future__ import annotations

import socket
import struct

from neutrino.dataplane.errors import TemporaryError
from neutrino.dataplane.in_netns import call_in

NETLINK_ROUTE = 0
RTM_NEWLINK, RTM_GETLINK = 16, 18
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
IFLA_ADDRESS, IFLA_IFNAME = 1, 3
NLMSG = struct.Struct("=IHHII")  # length, type, flags, sequence, port id
IFINFOMSG = struct.Struct("=BxHiII")  # family, type, index, flags, change
RTATTR = struct.Struct("=HH")  # length, type


def request(seq: int = 1) -> bytes:
    body = IFINFOMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
    return NLMSG.pack(NLMSG.size + len(body), RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq, 0) + body


def _align(n: int) -> int:
    return (n + 3) & ~3


def parse(data: bytes, out: dict[str, str]) -> bool:
    """Add the links of one datagram of the dump to ``out`` (name -> MAC, "" without one);
    True when the dump's last message (NLMSG_DONE) was in it."""
    offset = 0
    while offset + NLMSG.size <= len(data):
        length, kind, _, _, _ = NLMSG.unpack_from(data, offset)
        if length < NLMSG.size:
            break
        if kind == NLMSG_DONE:
            return True
        if kind == NLMSG_ERROR:
            code = -struct.unpack_from("=i", data, offset + NLMSG.size)[0]
            raise TemporaryError("list links", "netlink", f"dump failed: errno {code}")
        if kind == RTM_NEWLINK:
            name, mac = None, ""
            attr, end = offset + NLMSG.size + IFINFOMSG.size, offset + length
            while attr + RTATTR.size <= end:
                size, kind_ = RTATTR.unpack_from(data, attr)
                if size < RTATTR.size:
                    break
                value = data[attr + RTATTR.size : attr + size]
                if kind_ == IFLA_IFNAME:
                    name = value.split(b"\0", 1)[0].decode()
                elif kind_ == IFLA_ADDRESS:
                    mac = ":".join(f"{b:02x}" for b in value)
                attr += _align(size)
            if name is not None:
                out[name] = mac
        offset += _align(length)
    return False


def link_addresses(netns: str | None) -> dict[str, str]:
    """name -> MAC address of every link in ``netns`` (None: the caller's namespace)."""

    def dump() -> dict[str, str]:
        out: dict[str, str] = {}
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE) as sock:
            sock.bind((0, 0))
            sock.sendall(request())
            while not parse(sock.recv(1 << 20), out):
                pass
        return out

    return call_in(netns, dump)
