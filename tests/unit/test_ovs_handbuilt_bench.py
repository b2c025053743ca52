"""bench/ovs_handbuilt.py's pure part: which variants it builds and what bench/dataplane.py calls
their rows."""

from __future__ import annotations

import pytest

from tests import bench_modules

pytestmark = pytest.mark.unit


def _bench():  # type: ignore[no-untyped-def]
    return bench_modules.load("ovs_handbuilt")


def test_variants_are_a_shape_and_an_optional_tso_or_afxdp_suffix() -> None:
    b = _bench()
    assert b.parse_variant("one-bridge") == ("one-bridge", False, False)
    assert b.parse_variant("vxlan+tso") == ("vxlan", True, False)
    assert b.parse_variant("vxlan+afxdp") == ("vxlan", False, True)
    assert b.parse_variant("vlan") == ("vlan", False, False)
    for wrong in ("gre", "vxlan+gro", "vxlan+tso+tso", "", "+tso", "vxlan+tso+afxdp"):
        with pytest.raises(ValueError):
            b.parse_variant(wrong)


def test_rows_name_the_shape() -> None:
    b = _bench()
    assert b.row_label("one-bridge") == "OVS hand-built one bridge"
    assert b.row_label("vxlan") == "OVS hand-built VXLAN (two hosts)"
    assert b.row_label("vlan+tso") == "OVS hand-built VLAN (two hosts) + userspace TSO"
    assert b.row_label("one-bridge+afxdp") == "OVS hand-built one bridge, AF_XDP"
