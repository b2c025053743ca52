"""The userspace VLAN demultiplexer's frame handling (tools/vlanhelper.py)."""

from __future__ import annotations

import struct

import pytest

from neutrino.tools import vlanhelper

pytestmark = pytest.mark.unit

FRAME = bytes.fromhex("fa163e000002" "fa163e000001" "0800") + b"payload"


def test_push_then_pop_is_identity():
    tagged = vlanhelper.push_tag(FRAME, 101)
    assert tagged[12:16] == bytes.fromhex("81000065") and len(tagged) == len(FRAME) + 4
    assert vlanhelper.pop_tag(tagged) == (101, FRAME)


def test_pop_untagged_and_from_auxdata():
    assert vlanhelper.pop_tag(FRAME) == (None, FRAME)
    assert vlanhelper.pop_tag(FRAME, aux_tci=0x2065) == (101, FRAME)  # priority bits dropped


def test_auxdata_parsing():
    data = vlanhelper.AUXDATA.pack(vlanhelper.TP_STATUS_VLAN_VALID, 60, 60, 0, 14, 101, 0x8100)
    assert vlanhelper._aux_tci([(vlanhelper.SOL_PACKET, vlanhelper.PACKET_AUXDATA, data)]) == 101
    no_vlan = vlanhelper.AUXDATA.pack(0, 60, 60, 0, 14, 0, 0)
    assert vlanhelper._aux_tci([(vlanhelper.SOL_PACKET, vlanhelper.PACKET_AUXDATA, no_vlan)]) is None
    assert struct.calcsize("IIIHHHH") == 20


def test_subport_spec():
    from neutrino.lab.instances import InstanceError
    from neutrino.lab.trunk_instances import parse_subport

    assert parse_subport("net-b:101") == ("net-b", 101)
    assert parse_subport("a:b:7") == ("a:b", 7)
    for bad in ("net", "net:0", "net:4095", ":5", "net:x"):
        with pytest.raises(InstanceError):
            parse_subport(bad)


def test_a_frame_the_tap_refuses_is_dropped_and_the_helper_goes_on() -> None:
    """A TAP that is not up refuses writes (EIO); a broadcast on the VLAN arriving before the
    lab brings eth0.<vid> up must not end the helper (it did: CI saw eth0.101 vanish)."""
    import os

    r, w = os.pipe()
    os.close(r)  # any refusing descriptor will do: writing here raises BrokenPipeError
    try:
        vlanhelper._deliver(w, b"\xff" * 14)
    finally:
        os.close(w)


def test_control_requests() -> None:
    assert vlanhelper.parse_add(b"add 102 103") == [102, 103]
    for bad in (b"add", b"del 5", b"add 0", b"add 4095", b"add x"):
        with pytest.raises(ValueError):
            vlanhelper.parse_add(bad)
    assert vlanhelper.control_address("eth0").startswith("\0")  # abstract: private to the namespace
