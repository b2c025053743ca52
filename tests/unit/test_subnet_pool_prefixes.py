"""Subnet pool prefix arithmetic (domain/ipam/subnet_pools.py): shape, growth, allocation."""

from __future__ import annotations

import pytest

from neutrino import errors
from neutrino.domain.ipam import subnet_pools as sp

pytestmark = pytest.mark.unit


# --- shape --------------------------------------------------------------------------------------


def test_defaults_per_version():
    v4 = sp.read_shape(["10.11.12.0/24"])
    assert (v4.ip_version, v4.min_prefixlen, v4.max_prefixlen, v4.default_prefixlen) == (4, 8, 32, 8)
    v6 = sp.read_shape(["2001:db8:3::/48"])
    assert (v6.ip_version, v6.min_prefixlen, v6.max_prefixlen, v6.default_prefixlen) == (6, 64, 128, 64)


def test_default_prefixlen_follows_min():
    assert sp.read_shape(["10.0.0.0/8"], min_prefixlen=29).default_prefixlen == 29


def test_prefixes_compacted_and_host_bits_dropped():
    shape = sp.read_shape(["10.11.12.13/24", "10.11.13.0/24", "10.11.12.128/25", "9.0.0.0/8"])
    assert shape.prefixes == ("9.0.0.0/8", "10.11.12.0/23")


@pytest.mark.parametrize(
    ("prefixes", "error"),
    [([], errors.EmptySubnetPoolPrefixList), (["10.0.0.0/8", "2001:db8::/32"], errors.PrefixVersionMismatch)],
)
def test_bad_prefix_lists(prefixes, error):
    with pytest.raises(error):
        sp.read_shape(prefixes)


@pytest.mark.parametrize(
    ("bounds", "text"),
    [
        ({"min_prefixlen": 25, "max_prefixlen": 24}, "min_prefixlen=25, max_prefixlen=24"),
        ({"max_prefixlen": 33}, "max_prefixlen=33, ip_version_max=32"),
        ({"min_prefixlen": 20, "default_prefixlen": 16}, "default_prefixlen=16, min_prefixlen=20"),
        ({"max_prefixlen": 24, "min_prefixlen": 16, "default_prefixlen": 28}, "default_prefixlen=28, max_prefixlen=24"),
    ],
)
def test_illegal_bounds(bounds, text):
    with pytest.raises(errors.IllegalSubnetPoolPrefixBounds) as info:
        sp.read_shape(["10.0.0.0/8"], **bounds)
    assert text in info.value.message and info.value.status == 400


# --- prefix list changes -----------------------------------------------------------------------


def test_grow_append_and_extend():
    assert sp.grown_prefixes(["10.11.12.0/24"], ["10.11.12.0/24", "10.11.15.0/24"]) == [
        "10.11.12.0/24", "10.11.15.0/24"]
    assert sp.grown_prefixes(["10.11.12.0/24"], ["10.11.0.0/16"]) == ["10.11.0.0/16"]


def test_shrink_refused():
    with pytest.raises(errors.IllegalSubnetPoolPrefixUpdate) as info:
        sp.grown_prefixes(["10.11.12.0/24"], ["10.11.12.0/26"])
    assert "subset of the new prefixes" in info.value.message


def test_remove_prefixes():
    current = ["10.10.10.0/24", "192.168.1.0/24", "192.168.2.0/24"]
    assert sp.shrunk_prefixes(current, ["192.168.2.0/24"], []) == ["10.10.10.0/24", "192.168.1.0/24"]
    # a hole in the middle of a prefix leaves the rest, as cidrs
    assert sp.shrunk_prefixes(["10.0.0.0/24"], ["10.0.0.0/25"], []) == ["10.0.0.128/25"]
    # nothing of it in the pool: unchanged
    assert sp.shrunk_prefixes(current, ["172.16.0.0/12"], ["10.10.10.0/28"]) == current


def test_remove_allocated_prefix_refused():
    with pytest.raises(errors.IllegalSubnetPoolPrefixUpdate):
        sp.shrunk_prefixes(["10.0.0.0/16"], ["10.0.1.0/24"], ["10.0.1.0/28"])


def test_intersects_ignores_other_version():
    assert sp.intersects(["20.0.0.0/18"], ["20.0.0.0/12"])
    assert not sp.intersects(["20.0.0.0/18"], ["30.0.0.0/18", "2001:db8::/32"])


# --- allocation ----------------------------------------------------------------------------------


def test_any_takes_smallest_fitting_free_block():
    prefixes = ["10.0.0.0/16", "192.168.0.0/24"]
    assert sp.allocate_any(prefixes, [], 28) == "192.168.0.0/28"
    assert sp.allocate_any(prefixes, ["192.168.0.0/28"], 28) == "192.168.0.16/28"
    assert sp.allocate_any(prefixes, [], 20) == "10.0.0.0/20"


def test_any_fills_holes_first():
    assert sp.allocate_any(["10.0.0.0/24"], ["10.0.0.0/26", "10.0.0.128/25"], 27) == "10.0.0.64/27"


def test_any_when_full():
    with pytest.raises(errors.SubnetAllocationError) as info:
        sp.allocate_any(["10.0.0.0/24"], ["10.0.0.0/25"], 24)
    assert "Insufficient prefix space to allocate subnet size /24" in info.value.message
    assert info.value.status == 500


def test_specific():
    assert sp.allocate_specific(["10.11.12.0/24"], [], "10.11.12.0/29") == "10.11.12.0/29"
    for taken, wanted in ((["10.11.12.0/28"], "10.11.12.0/29"), ([], "10.11.13.0/29"), ([], "10.11.0.0/16")):
        with pytest.raises(errors.SubnetAllocationError):
            sp.allocate_specific(["10.11.12.0/24"], taken, wanted)


def test_v6_any():
    assert sp.allocate_any(["2001:db8:3::/48"], ["2001:db8:3::/64"], 64) == "2001:db8:3:1::/64"


def test_prefixlen_bounds():
    sp.check_prefixlen(28, 28, 30)
    with pytest.raises(errors.MaxPrefixSubnetAllocationError):
        sp.check_prefixlen(31, 28, 30)
    with pytest.raises(errors.MinPrefixSubnetAllocationError) as info:
        sp.check_prefixlen(24, 28, 30)
    assert info.value.message == "Unable to allocate subnet with prefix length 24, minimum allowed prefix is 28."


def test_quota_in_address_units():
    sp.check_quota(4, 4, [], 30)  # a /30 is 4 addresses
    with pytest.raises(errors.SubnetPoolQuotaExceeded) as info:
        sp.check_quota(4, 4, ["10.0.0.0/31"], 30)
    assert info.value.status == 409
    sp.check_quota(4, 0, ["10.0.0.0/8"], 8)  # 0: no limit
    sp.check_quota(6, 2, ["2001:db8::/64"], 64)  # IPv6 counts /64s
    with pytest.raises(errors.SubnetPoolQuotaExceeded):
        sp.check_quota(6, 2, ["2001:db8::/64"], 63)
