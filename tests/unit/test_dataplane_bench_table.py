"""bench/dataplane_table.py, the dataplane bench's arithmetic: ratios to the bare veth and of each
filtered path to the same path on hosts with no firewall, per round, then the median."""

from __future__ import annotations

import pytest

from tests import bench_modules

pytestmark = pytest.mark.unit


def _table():  # type: ignore[no-untyped-def]
    return bench_modules.load("dataplane_table")


def test_the_twin_of_a_filtered_row_is_the_same_path_with_no_firewall() -> None:
    t = _table()
    assert t.unfiltered_twin("linuxbridge vxlan + security groups") == "linuxbridge vxlan, no firewall on the hosts"
    assert t.unfiltered_twin("OVS vxlan + security groups (MTU 8950)") == "OVS vxlan, no firewall on the hosts (MTU 8950)"
    assert t.unfiltered_twin("linuxbridge vxlan") is None


def test_ratios_are_medians_of_per_round_ratios() -> None:
    """Round by round: filtered / no-firewall of that round (10/12, 9/10, 6/10), not a ratio of
    medians; the bare veth's ratio likewise against the veth measured just before."""
    t = _table()
    samples = {
        "linuxbridge vxlan": [(12.0, 20.0), (11.0, 22.0), (5.0, 10.0)],
        "linuxbridge vxlan, no firewall on the hosts": [(12.0, 20.0), (10.0, 20.0), (10.0, 12.5)],
        "linuxbridge vxlan + security groups": [(10.0, 20.0), (9.0, 18.0), (6.0, 10.0)],
    }
    r = t.summary(samples)
    assert r["bare veth"]["gbps"] == 20.0 and r["bare veth"]["gbps_min"] == 10.0
    assert r["linuxbridge vxlan"]["ratio"] == 0.5 and "fw" not in r["linuxbridge vxlan"]
    sg = r["linuxbridge vxlan + security groups"]
    assert sg["fw"] == pytest.approx(10 / 12) and sg["fw_min"] == pytest.approx(0.6) and sg["fw_max"] == pytest.approx(0.9)
    assert sg["gbps"] == 9.0 and sg["ratio"] == 0.5 and sg["ratio_max"] == 0.6
    assert "fw" not in r["linuxbridge vxlan, no firewall on the hosts"]


def test_the_table_shows_both_ratios_and_both_targets() -> None:
    t = _table()
    results = t.summary({
        "linuxbridge vxlan, no firewall on the hosts": [(15.0, 20.0)],
        "linuxbridge vxlan + security groups": [(12.0, 20.0)],
        "OVS vxlan": [(0.7, 20.0)],
    })  # fmt: skip
    lines = t.table(results, rounds=1, seconds=4)
    row = next(line for line in lines if line.startswith("linuxbridge vxlan + security groups"))
    assert ">= 0.80x: NOT met" in row and ">= 0.80x nofw: met" in row
    assert row.split()[5:11] == ["12.00", "12.00-12.00", "0.60", "0.60-0.60", "0.80", "0.80-0.80"]
    assert next(line for line in lines if line.startswith("OVS vxlan")).endswith("(recipe): NOT met")


def test_an_ovs_row_is_compared_round_by_round_with_its_hand_built_reference() -> None:
    """Per round: the lab's Gb/s over the hand-built one bridge's of that round (0.2/0.8, 0.3/0.5,
    0.1/1.0), then the median; the hand-built row itself carries no target."""
    t = _table()
    samples = {
        "OVS vxlan": [(0.2, 20.0), (0.3, 18.0), (0.1, 10.0)],
        "OVS hand-built one bridge": [(0.8, 20.0), (0.5, 18.0), (1.0, 10.0)],
    }
    r = t.summary(samples, {"OVS vxlan": "OVS hand-built one bridge"})
    assert r["OVS vxlan"]["hb"] == pytest.approx(0.25)
    assert r["OVS vxlan"]["hb_min"] == pytest.approx(0.1) and r["OVS vxlan"]["hb_max"] == pytest.approx(0.6)
    assert "hb" not in r["OVS hand-built one bridge"]
    lines = t.table(r, rounds=3, seconds=4)
    lab = next(line for line in lines if line.startswith("OVS vxlan"))
    assert lab.endswith("(recipe): NOT met; x hand-built one bridge: 0.25 (0.10-0.60)")
    assert next(line for line in lines if line.startswith("OVS hand-built")).endswith("-")  # no target: CPU column last


def test_without_references_no_ratio_to_a_hand_built_path() -> None:
    t = _table()
    r = t.summary({"OVS vxlan": [(0.2, 20.0)], "OVS hand-built one bridge": [(0.8, 20.0)]})
    assert "hb" not in r["OVS vxlan"]
    assert next(line for line in t.table(r, 1, 4) if line.startswith("OVS vxlan")).endswith("(recipe): NOT met")
