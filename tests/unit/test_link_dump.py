"""The raw link dump's parser (``dataplane/link_dump.py``) on hand-made netlink datagrams."""

from __future__ import annotations

import struct

import pytest

from neutrino.dataplane.errors import TemporaryError
from neutrino.dataplane.link_dump import (IFINFOMSG, IFLA_ADDRESS, IFLA_IFNAME, NLMSG, NLMSG_DONE, NLMSG_ERROR,
                                          RTM_NEWLINK, parse, request)  # fmt: skip

pytestmark = pytest.mark.unit


def attr(kind: int, value: bytes) -> bytes:
    raw = struct.pack("=HH", 4 + len(value), kind) + value
    return raw + b"\0" * (-len(raw) % 4)


def link(name: str, mac: bytes | None) -> bytes:
    body = IFINFOMSG.pack(0, 1, 7, 0, 0) + attr(4, b"\0\0\x05\xdc") + attr(IFLA_IFNAME, name.encode() + b"\0")
    if mac is not None:
        body += attr(IFLA_ADDRESS, mac)
    return NLMSG.pack(NLMSG.size + len(body), RTM_NEWLINK, 2, 1, 0) + body


def test_names_and_macs_across_datagrams_until_done() -> None:
    out: dict[str, str] = {}
    assert not parse(link("qvb1", bytes.fromhex("fa163e000001")) + link("lo", None), out)
    assert parse(link("eth0", bytes.fromhex("020000000001")) + NLMSG.pack(20, NLMSG_DONE, 2, 1, 0) + b"\0" * 4, out)
    assert out == {"qvb1": "fa:16:3e:00:00:01", "lo": "", "eth0": "02:00:00:00:00:01"}


def test_an_error_answer_raises() -> None:
    with pytest.raises(TemporaryError):
        parse(NLMSG.pack(36, NLMSG_ERROR, 0, 1, 0) + struct.pack("=i", -1) + b"\0" * 16, {})


def test_the_request_is_a_dump_of_links() -> None:
    length, kind, flags, _, _ = NLMSG.unpack_from(request())
    assert (length, kind, flags) == (32, 18, 0x301)
