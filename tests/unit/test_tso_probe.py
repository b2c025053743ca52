"""The userspace TSO probe's frames and judgement (dataplane/tso_probe.py) and what the offload
decision (agent/l2/offloads.py) makes of its answers."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from neutrino.agent.l2 import offloads
from neutrino.dataplane import tso_probe
from neutrino.dataplane.tso_probe import DIRECT_PORT, SENT_SEGMENT, TUNNEL_PORT, VXLAN_UDP, Seen

pytestmark = pytest.mark.unit
V31 = "ovs-vswitchd (Open vSwitch) 3.1.0"


def test_offloaded_frame_has_a_partial_checksum_and_the_segment_size():
    vnet, frame = tso_probe.tcp_frame(DIRECT_PORT, 3 * SENT_SEGMENT, SENT_SEGMENT)
    flags, gso_type, hdr_len, gso_size, csum_start, csum_offset = tso_probe.VNET_HDR.unpack(vnet)
    assert (flags, gso_type, hdr_len, gso_size, csum_start, csum_offset) == (1, 1, 54, SENT_SEGMENT, 34, 16)
    assert len(frame) == 54 + 3 * SENT_SEGMENT and frame[12:14] == b"\x08\x00"
    assert struct.unpack_from("!H", frame, 16)[0] == 20 + 20 + 3 * SENT_SEGMENT  # IPv4 total length
    assert tso_probe._checksum(frame[14:34]) == 0xFFFF  # a valid IPv4 header checksum


def test_plain_frame_carries_a_finished_tcp_checksum():
    vnet, frame = tso_probe.tcp_frame(TUNNEL_PORT, 100, None)
    assert vnet == bytes(10)
    pseudo = frame[26:34] + struct.pack("!BBH", 0, 6, 120)
    assert tso_probe._checksum(pseudo + frame[34:]) == 0xFFFF


def test_parse_reads_gso_size_and_ports():
    vnet, frame = tso_probe.tcp_frame(DIRECT_PORT, 100, SENT_SEGMENT)
    assert tso_probe.parse(vnet + frame) == Seen(SENT_SEGMENT, DIRECT_PORT, None)
    udp = bytearray(frame)
    udp[23] = 17  # protocol
    udp[36:38] = struct.pack("!H", VXLAN_UDP)
    assert tso_probe.parse(bytes(10) + bytes(udp)) == Seen(0, None, VXLAN_UDP)
    ipv6 = bytes(10) + frame[:12] + b"\x86\xdd" + frame[14:]
    assert tso_probe.parse(ipv6) is None and tso_probe.parse(b"short") is None


def test_judge_ovs_31_cuts_by_mtu_and_drops_into_tunnels():
    tunnel = [Seen(0, None, VXLAN_UDP)]
    r = tso_probe.judge([Seen(1446, DIRECT_PORT, None)], tunnel, [], V31)
    assert r == tso_probe.ProbeResult(False, False, V31)


def test_judge_a_switch_that_keeps_the_segment_size_or_segments_itself():
    tunnel = [Seen(0, None, VXLAN_UDP)]
    assert tso_probe.judge([Seen(SENT_SEGMENT, DIRECT_PORT, None)], tunnel, tunnel, "x").keeps_segment_size
    three = [Seen(0, DIRECT_PORT, None)] * 3  # segmented before the output, by the sender's size
    r = tso_probe.judge(three, tunnel, tunnel, "x")
    assert r is not None and r.keeps_segment_size and r.tunnels_offloaded
    assert not tso_probe.judge([Seen(0, DIRECT_PORT, None)], tunnel, [], "x").keeps_segment_size  # one finished frame


def test_judge_says_nothing_when_the_probe_path_failed():
    assert tso_probe.judge([], [Seen(0, None, VXLAN_UDP)], [], V31) is None
    assert tso_probe.judge([Seen(1446, DIRECT_PORT, None)], [], [], V31) is None  # the tunnel never worked


def test_cached_answers_from_the_file_for_the_same_version(tmp_path: Path, monkeypatch):
    cache = tmp_path / "probe.json"
    calls = []

    def fake_run(version, timeout=10.0):
        calls.append(version)
        return tso_probe.ProbeResult(False, False, version)

    monkeypatch.setattr(tso_probe, "run", fake_run)
    assert tso_probe.cached(V31, cache) == tso_probe.ProbeResult(False, False, V31)
    assert tso_probe.cached(V31, cache) == tso_probe.ProbeResult(False, False, V31)
    assert calls == [V31] and json.loads(cache.read_text())["version"] == V31
    tso_probe.cached("ovs-vswitchd (Open vSwitch) 3.3.0", cache)
    assert len(calls) == 2  # another binary: probed again


def facts(setting=None, active=None, keeps=None, tunnels=None) -> offloads.SwitchFacts:
    return offloads.SwitchFacts(False, (3, 1, 0), setting, active, keeps, tunnels)


def test_probe_that_finds_ovs_31_behaviour_changes_nothing():
    d = offloads.decide(facts(active=False, keeps=False, tunnels=False))
    assert d.write_setting is None and not d.tso_ports and "probed: cuts by the output port's MTU" in d.message
    opted = offloads.decide(facts(setting="true", active=True, keeps=False, tunnels=False), tso_ports=True)
    assert offloads.port_offload(opted, "vlan") and not offloads.port_offload(opted, "vxlan")


def test_a_switch_that_keeps_the_segment_size_gets_tso_without_the_setting():
    d = offloads.decide(facts(active=False, keeps=True, tunnels=False))
    assert d.write_setting == "true" and d.tso_ports and not offloads.port_offload(d, "vlan")  # not active yet
    running = offloads.decide(facts(setting="true", active=True, keeps=True, tunnels=False))
    assert offloads.port_offload(running, "vlan") and not offloads.port_offload(running, "vxlan")
    tunnels = offloads.decide(facts(setting="true", active=True, keeps=True, tunnels=True))
    assert offloads.port_offload(tunnels, "vxlan") and offloads.port_offload(tunnels, "geneve")
    assert "tunnels offloaded packets" in tunnels.message


def test_an_operator_false_still_wins_over_the_probe():
    d = offloads.decide(facts(setting="false", active=False, keeps=True, tunnels=True))
    assert d.write_setting is None and not offloads.port_offload(d, "vlan") and not offloads.port_offload(d, "vxlan")
