"""Pure IPAM rules: default pools, subnet/pool/gateway checks, address choice and MACs."""

from __future__ import annotations

import random

import pytest

from neutrino import errors
from neutrino.domain.ipam import addresses, mac, pools

pytestmark = pytest.mark.unit


# --- default gateway and pools ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("cidr", "gateway"),
    [("10.0.0.0/24", "10.0.0.1"), ("10.0.0.0/30", "10.0.0.1"), ("2001:db8::/64", "2001:db8::1")],
)
def test_default_gateway_is_first_host(cidr, gateway):
    assert pools.default_gateway(cidr) == gateway


@pytest.mark.parametrize(
    ("cidr", "gateway", "expected"),
    [
        ("10.0.0.0/24", "10.0.0.1", [("10.0.0.2", "10.0.0.254")]),
        ("10.0.0.0/24", None, [("10.0.0.1", "10.0.0.254")]),
        ("10.0.0.0/24", "10.0.0.254", [("10.0.0.1", "10.0.0.253")]),
        ("10.0.0.0/24", "10.0.0.100", [("10.0.0.1", "10.0.0.99"), ("10.0.0.101", "10.0.0.254")]),
        ("10.0.0.0/24", "192.168.0.1", [("10.0.0.1", "10.0.0.254")]),  # outside: nothing cut
        ("10.0.0.0/30", "10.0.0.1", [("10.0.0.2", "10.0.0.2")]),
        ("10.0.0.0/30", None, [("10.0.0.1", "10.0.0.2")]),
        ("10.0.0.0/31", None, [("10.0.0.0", "10.0.0.1")]),
        ("10.0.0.0/31", "10.0.0.0", [("10.0.0.1", "10.0.0.1")]),
        ("10.0.0.4/32", None, [("10.0.0.4", "10.0.0.4")]),
        ("10.0.0.4/32", "10.0.0.4", [("10.0.0.4", "10.0.0.4")]),
        ("2001:db8::/64", "2001:db8::1", [("2001:db8::2", "2001:db8::ffff:ffff:ffff:ffff")]),
        (
            "2001:db8::/64",
            "2001:db8::10",
            [("2001:db8::1", "2001:db8::f"), ("2001:db8::11", "2001:db8::ffff:ffff:ffff:ffff")],
        ),
        ("2001:db8::/127", None, [("2001:db8::1", "2001:db8::1")]),
    ],
)
def test_generate_pools(cidr, gateway, expected):
    assert pools.generate_pools(cidr, gateway) == expected


def test_generated_pools_pass_validation():
    for cidr, gw in [("10.0.0.0/24", "10.0.0.1"), ("10.0.0.0/31", None), ("2001:db8::/64", "2001:db8::1")]:
        pools.validate_pools(cidr, pools.generate_pools(cidr, gw), gw)


# --- subnet cidr ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cidr", "version", "dhcp"),
    [
        ("10.0.0.0/24", 4, True),
        ("10.0.0.0/31", 4, False),
        ("2001:db8::/64", 6, True),
        ("0.0.0.0/8", 4, False),
    ],
)
def test_valid_subnet_cidrs(cidr, version, dhcp):
    pools.validate_subnet_cidr(cidr, version, dhcp)


@pytest.mark.parametrize(
    ("cidr", "version", "dhcp", "fragment"),
    [
        ("10.0.0.0/24", 6, True, "cidr '10.0.0.0/24' does not match the ip_version '6'"),
        ("2001:db8::/64", 4, True, "does not match the ip_version '4'"),
        ("0.0.0.0/0", 4, False, "0 is not allowed as CIDR prefix length"),
        ("::/0", 6, False, "0 is not allowed as CIDR prefix length"),
        ("10.0.0.0/31", 4, True, "prefix length that is incompatible with DHCP"),
        ("10.0.0.0/32", 4, True, "prefix length that is incompatible with DHCP"),
        ("2001:db8::/127", 6, True, "prefix length that is incompatible with DHCP"),
        ("224.0.0.0/24", 4, True, "Multicast IP subnet is not supported"),
        ("ff00::/64", 6, True, "Multicast IP subnet is not supported"),
        ("127.0.0.0/8", 4, True, "Loopback IP subnet is not supported"),
        ("0.0.0.0/8", 4, True, "First IP '0.0.0.0' of network is not supported"),
        ("nonsense", 4, True, "'nonsense' is not a valid IP subnet"),
    ],
)
def test_invalid_subnet_cidrs(cidr, version, dhcp, fragment):
    with pytest.raises(errors.InvalidInput) as exc:
        pools.validate_subnet_cidr(cidr, version, dhcp)
    assert fragment in exc.value.message
    assert exc.value.status == 400


# --- gateway ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "gateway", ["10.0.0.1", "10.0.0.254", "10.0.0.77", "192.168.1.1"]  # outside is allowed
)
def test_valid_gateways(gateway):
    pools.validate_gateway("10.0.0.0/24", gateway)


def test_ipv6_network_address_gateway_is_allowed():
    pools.validate_gateway("2001:db8::/64", "2001:db8::")


@pytest.mark.parametrize("gateway", ["10.0.0.0", "10.0.0.255"])
def test_gateway_on_network_or_broadcast(gateway):
    with pytest.raises(errors.InvalidInput, match="Gateway is not valid on subnet"):
        pools.validate_gateway("10.0.0.0/24", gateway)


def test_gateway_of_wrong_version():
    with pytest.raises(errors.InvalidInput, match="gateway_ip '2001:db8::1' does not match"):
        pools.validate_gateway("10.0.0.0/24", "2001:db8::1")


def test_gateway_malformed():
    with pytest.raises(errors.InvalidInput, match="not a valid IP address"):
        pools.validate_gateway("10.0.0.0/24", "10.0.0.300")


# --- explicit pools ---------------------------------------------------------------------------


def test_valid_pools_and_dict_form():
    pools.validate_pools(
        "10.0.0.0/24", [("10.0.0.10", "10.0.0.20"), {"start": "10.0.0.21", "end": "10.0.0.254"}], "10.0.0.1"
    )
    pools.validate_pools("10.0.0.0/24", [], None)
    pools.validate_pools("2001:db8::/64", [("2001:db8::2", "2001:db8::ffff:ffff:ffff:ffff")], None)


@pytest.mark.parametrize(
    "pool",
    [("10.0.0.x", "10.0.0.9"), ("10.0.0.9", "10.0.0.2"), ("10.0.0.2", "2001:db8::9"), (None, "10.0.0.9")],
)
def test_malformed_pool(pool):
    with pytest.raises(errors.InvalidAllocationPool) as exc:
        pools.validate_pools("10.0.0.0/24", [pool], None)
    assert exc.value.status == 400
    assert f"{{'start': {pool[0]!r}, 'end': {pool[1]!r}}}" in exc.value.message


def test_pool_of_other_version():
    with pytest.raises(errors.InvalidAllocationPool, match="2001:db8::2-2001:db8::9"):
        pools.validate_pools("10.0.0.0/24", [("2001:db8::2", "2001:db8::9")], None)


@pytest.mark.parametrize(
    ("cidr", "pool"),
    [
        ("10.0.0.0/24", ("10.0.0.0", "10.0.0.9")),
        ("10.0.0.0/24", ("10.0.0.200", "10.0.0.255")),
        ("10.0.0.0/24", ("10.0.1.2", "10.0.1.9")),
        ("10.0.0.0/24", ("9.255.255.250", "10.0.0.9")),
        ("2001:db8::/64", ("2001:db8::", "2001:db8::9")),
    ],
)
def test_out_of_bounds_pool(cidr, pool):
    with pytest.raises(errors.OutOfBoundsAllocationPool) as exc:
        pools.validate_pools(cidr, [pool], None)
    assert exc.value.message == (
        f"The allocation pool {pool[0]}-{pool[1]} spans beyond the subnet cidr {cidr}."
    )
    assert exc.value.status == 400


def test_overlapping_pools():
    given = [("10.0.0.50", "10.0.0.60"), ("10.0.0.2", "10.0.0.9"), ("10.0.0.5", "10.0.0.20")]
    with pytest.raises(errors.OverlappingAllocationPools) as exc:
        pools.validate_pools("10.0.0.0/24", given, None)
    assert exc.value.status == 409
    assert exc.value.message == (
        "Found overlapping allocation pools: 10.0.0.2-10.0.0.9 10.0.0.5-10.0.0.20 "
        "for subnet 10.0.0.0/24."
    )


def test_touching_pools_do_not_overlap():
    pools.validate_pools("10.0.0.0/24", [("10.0.0.2", "10.0.0.9"), ("10.0.0.10", "10.0.0.20")], None)


def test_gateway_inside_pool():
    with pytest.raises(errors.GatewayConflictWithAllocationPools) as exc:
        pools.validate_pools("10.0.0.0/24", [("10.0.0.1", "10.0.0.9")], "10.0.0.5")
    assert exc.value.status == 409
    assert exc.value.message == "Gateway ip 10.0.0.5 conflicts with allocation pool 10.0.0.1-10.0.0.9."


# --- other subnet attributes ------------------------------------------------------------------


def test_overlapping_cidr():
    others = ["10.1.0.0/16", "10.0.0.128/25", "10.0.0.0/8"]
    assert pools.overlapping_cidr("10.0.0.0/24", others) == "10.0.0.128/25"
    assert pools.overlapping_cidr("10.0.0.0/24", ["10.0.1.0/24", "2001:db8::/64"]) is None
    assert pools.overlapping_cidr("2001:db8::/64", ["2001:db8::/48"]) == "2001:db8::/48"
    assert pools.overlapping_cidr("10.0.0.0/24", []) is None


@pytest.mark.parametrize(
    ("ra", "addr", "dhcp", "cidr"),
    [
        (None, None, False, "2001:db8::/64"),
        ("slaac", "slaac", True, "2001:db8::/64"),
        (None, "dhcpv6-stateless", True, "2001:db8::/64"),
        ("dhcpv6-stateful", None, True, "2001:db8::/80"),
        (None, None, True, "10.0.0.0/24"),
    ],
)
def test_valid_ipv6_modes(ra, addr, dhcp, cidr):
    pools.validate_ipv6_modes(ra, addr, dhcp, cidr)


@pytest.mark.parametrize(
    ("ra", "addr", "dhcp", "cidr", "fragment"),
    [
        ("slaac", "dhcpv6-stateful", True, "2001:db8::/64", "If both attributes are set, they must"),
        ("slaac", None, False, "2001:db8::/64", "cannot be set when enable_dhcp is set to False"),
        (None, "slaac", True, "2001:db8::/80", "Invalid CIDR 2001:db8::/80 for IPv6 address mode"),
        ("dhcpv6-stateless", None, True, "2001:db8::/56", "requires the prefix to be /64"),
        ("slaac", None, True, "10.0.0.0/24", "ipv6_ra_mode is not valid when ip_version is 4"),
        (None, "slaac", True, "10.0.0.0/24", "ipv6_address_mode is not valid when ip_version is 4"),
    ],
)
def test_invalid_ipv6_modes(ra, addr, dhcp, cidr, fragment):
    with pytest.raises(errors.InvalidInput) as exc:
        pools.validate_ipv6_modes(ra, addr, dhcp, cidr)
    assert fragment in exc.value.message


def test_host_routes():
    routes = [{"destination": "192.168.0.0/16", "nexthop": "10.0.0.254"}]
    pools.validate_host_routes("10.0.0.0/24", 4, routes)
    pools.validate_host_routes("10.0.0.0/24", None, routes)
    bad_hop = [{"destination": "1.0.0.0/8", "nexthop": "2001:db8::1"}]
    with pytest.raises(errors.InvalidInput, match="nexthop '2001:db8::1' does not match the ip_version '4'"):
        pools.validate_host_routes("10.0.0.0/24", 4, bad_hop)
    bad_dest = [{"destination": "2001:db8::/64", "nexthop": "10.0.0.1"}]
    with pytest.raises(errors.InvalidInput, match="destination '2001:db8::/64' does not match"):
        pools.validate_host_routes("10.0.0.0/24", 4, bad_dest)
    with pytest.raises(errors.InvalidInput, match="Invalid route"):
        pools.validate_host_routes("10.0.0.0/24", 4, [{"destination": "x", "nexthop": "10.0.0.1"}])


def test_host_routes_limit():
    routes = [{"destination": f"192.168.{i}.0/24", "nexthop": "10.0.0.254"} for i in range(21)]
    pools.validate_host_routes("10.0.0.0/24", 4, routes[:20])
    with pytest.raises(errors.HostRoutesExhausted) as exc:
        pools.validate_host_routes("10.0.0.0/24", 4, routes)
    assert exc.value.status == 400
    assert exc.value.message == (
        "Unable to complete operation for new subnet. The number of host routes exceeds the limit 20."
    )
    with pytest.raises(errors.HostRoutesExhausted, match="for sub-1"):
        pools.validate_host_routes("10.0.0.0/24", 4, routes[:3], max_routes=2, subnet_id="sub-1")


def test_dns_nameservers():
    pools.validate_dns_nameservers(["8.8.8.8", "2001:4860:4860::8888"])
    pools.validate_dns_nameservers([])
    with pytest.raises(errors.InvalidInput, match="Duplicate nameserver '8.8.8.8'"):
        pools.validate_dns_nameservers(["8.8.8.8", "8.8.8.8"])
    with pytest.raises(errors.InvalidInput, match="Error parsing dns address foo"):
        pools.validate_dns_nameservers(["foo"])
    with pytest.raises(errors.InvalidInput, match="dns_nameserver '2001:db8::1' does not match"):
        pools.validate_dns_nameservers(["2001:db8::1"], ip_version=4)
    with pytest.raises(errors.DNSNameServersExhausted) as exc:
        pools.validate_dns_nameservers([f"10.0.0.{i}" for i in range(6)])
    assert exc.value.status == 400
    assert "The number of DNS nameservers exceeds the limit 5." in exc.value.message
    pools.validate_dns_nameservers([f"10.0.0.{i}" for i in range(6)], max_servers=6)


@pytest.mark.parametrize(
    ("ip", "cidr", "owner", "usable"),
    [
        ("10.0.0.5", "10.0.0.0/24", "compute:nova", True),
        ("10.0.0.0", "10.0.0.0/24", "", False),
        ("10.0.0.255", "10.0.0.0/24", "network:router_interface", False),
        ("10.0.1.5", "10.0.0.0/24", "", False),
        ("2001:db8::5", "10.0.0.0/24", "", False),
        ("junk", "10.0.0.0/24", "", False),
        ("10.0.0.0", "10.0.0.0/31", "", True),
        ("10.0.0.1", "10.0.0.0/31", "", True),
        ("10.0.0.7", "10.0.0.7/32", "", True),
        ("2001:db8::", "2001:db8::/64", "compute:nova", False),
        ("2001:db8::", "2001:db8::/64", "network:router_interface", True),
        ("2001:db8::", "2001:db8::/64", "network:router_gateway", True),
        ("2001:db8::", "2001:db8::/64", "network:router_centralized_snat", True),
        ("2001:db8::", "2001:db8::/64", "", True),
        ("2001:db8::ffff:ffff:ffff:ffff", "2001:db8::/64", "compute:nova", True),
    ],
)
def test_ip_usable_in_subnet(ip, cidr, owner, usable):
    assert pools.ip_usable_in_subnet(ip, cidr, owner) is usable


# --- addresses --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "addr_mode", "ra_mode", "auto"),
    [
        (6, "slaac", None, True),
        (6, "dhcpv6-stateless", "dhcpv6-stateless", True),
        (6, None, "slaac", True),
        (6, None, "dhcpv6-stateless", True),
        (6, "dhcpv6-stateful", "slaac", False),
        (6, "dhcpv6-stateful", None, False),
        (6, None, None, False),
        (4, "slaac", "slaac", False),
    ],
)
def test_is_auto_address_subnet(version, addr_mode, ra_mode, auto):
    assert addresses.is_auto_address_subnet(version, addr_mode, ra_mode) is auto


def test_eui64_address():
    assert addresses.eui64_address("2001:db8::/64", "fa:16:3e:11:22:33") == "2001:db8::f816:3eff:fe11:2233"
    other = addresses.eui64_address("2001:db8:1:2::/64", "FA-16-3E-11-22-33")
    assert other == "2001:db8:1:2:f816:3eff:fe11:2233"
    # the U/L bit is flipped, not set: 02:... becomes 00:...
    assert addresses.eui64_address("fd00::/64", "02:00:00:00:00:01") == "fd00::ff:fe00:1"
    with pytest.raises(ValueError):
        addresses.eui64_address("10.0.0.0/24", "fa:16:3e:11:22:33")


def test_pick_lowest():
    p = [("10.0.0.2", "10.0.0.254")]
    assert addresses.pick_address(p, set(), prefer_lowest=True) == "10.0.0.2"
    assert addresses.pick_address(p, {"10.0.0.2", "10.0.0.3", "10.0.0.5"}, prefer_lowest=True) == "10.0.0.4"
    # allocations outside the pool (e.g. the gateway) and of another version do not matter
    assert addresses.pick_address(p, {"10.0.0.1", "2001:db8::2", "junk"}, prefer_lowest=True) == "10.0.0.2"


def test_pick_moves_to_next_pool_when_first_is_full():
    p = [("10.0.0.2", "10.0.0.3"), ("10.0.0.10", "10.0.0.12")]
    assert addresses.pick_address(p, {"10.0.0.2", "10.0.0.3"}, prefer_lowest=True) == "10.0.0.10"
    assert addresses.pick_address(p, {"10.0.0.2", "10.0.0.3"}, prefer_lowest=False) in {
        "10.0.0.10",
        "10.0.0.11",
        "10.0.0.12",
    }


def test_pick_exhaustion_returns_none():
    p = [("10.0.0.2", "10.0.0.3"), {"start": "10.0.0.5", "end": "10.0.0.5"}]
    full = {"10.0.0.2", "10.0.0.3", "10.0.0.5"}
    assert addresses.pick_address(p, full, prefer_lowest=True) is None
    assert addresses.pick_address(p, full, prefer_lowest=False) is None
    assert addresses.pick_address([], set(), prefer_lowest=True) is None


def test_pick_random_stays_within_window_and_skips_allocated():
    p = [("10.0.0.1", "10.0.255.254")]
    allocated = {"10.0.0.1", "10.0.0.3"}
    rng = random.Random(42)
    seen = {addresses.pick_address(p, allocated, prefer_lowest=False, rng=rng, window=10) for _ in range(300)}
    expected = {f"10.0.0.{i}" for i in (2, 4, 5, 6, 7, 8, 9, 10, 11, 12)}
    assert seen == expected


def test_pick_random_is_reproducible_with_seeded_rng():
    p = [("10.0.0.2", "10.0.0.254")]
    a = addresses.pick_address(p, set(), prefer_lowest=False, rng=random.Random(7))
    b = addresses.pick_address(p, set(), prefer_lowest=False, rng=random.Random(7))
    assert a == b


def test_pick_in_a_huge_ipv6_pool():
    """Correctness only; how fast it is, is bench/ipam.py's to measure (tests assert no timings)."""
    p = pools.generate_pools("2001:db8::/64", "2001:db8::1")
    allocated = {f"2001:db8::{i:x}" for i in range(2, 12)}
    assert addresses.pick_address(p, allocated, prefer_lowest=True) == "2001:db8::c"
    chosen = addresses.pick_address(p, allocated, prefer_lowest=False)
    assert chosen not in allocated
    assert addresses.count_free(p, allocated) == 2**64 - 2 - 10


def test_pick_in_a_nearly_full_slash16():
    p = pools.generate_pools("10.0.0.0/16", "10.0.0.1")
    every = [f"10.0.{i >> 8}.{i & 255}" for i in range(2, 65535)]
    free = {"10.0.200.7", "10.0.255.250"}
    allocated = set(every) - free
    assert addresses.pick_address(p, allocated, prefer_lowest=True) == "10.0.200.7"
    assert addresses.pick_address(p, allocated, prefer_lowest=False) in free
    assert addresses.count_free(p, allocated) == 2


def test_count_free():
    p = [("10.0.0.2", "10.0.0.9"), ("10.0.0.20", "10.0.0.29")]
    assert addresses.count_free(p, set()) == 18
    assert addresses.count_free(p, {"10.0.0.2", "10.0.0.25", "10.0.0.1", "10.0.0.15"}) == 16


# --- MACs -------------------------------------------------------------------------------------


def test_random_mac_default_base():
    rng = random.Random(1)
    for _ in range(50):
        value = mac.random_mac(rng=rng)
        assert value.startswith("fa:16:3e:")
        assert value == value.lower() and len(value) == 17
        assert mac.mac_is_valid_for_port(value)


def test_random_mac_fourth_octet_fixed_when_nonzero():
    values = {mac.random_mac("fa:16:3f:4b:00:00", random.Random(i)) for i in range(30)}
    assert all(v.startswith("fa:16:3f:4b:") for v in values)
    assert len(values) > 1


def test_random_mac_fourth_octet_random_when_zero():
    fourth = {mac.random_mac("FA-16-3E-00-00-00", random.Random(i)).split(":")[3] for i in range(30)}
    assert len(fourth) > 1


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("fa:16:3e:11:22:33", "fa:16:3e:11:22:33"),
        ("FA:16:3E:11:22:33", "fa:16:3e:11:22:33"),
        ("FA-16-3E-11-22-33", "fa:16:3e:11:22:33"),
        ("fa16.3e11.2233", "fa:16:3e:11:22:33"),
        ("fa163e112233", "fa:16:3e:11:22:33"),
        ("a:b:c:d:e:f", "0a:0b:0c:0d:0e:0f"),
    ],
)
def test_normalize_mac(raw, canonical):
    assert mac.normalize_mac(raw) == canonical


@pytest.mark.parametrize(
    "raw", ["", "fa:16:3e:11:22", "fa:16:3e:11:22:33:44", "fa:16-3e:11:22:33", "zz:16:3e:11:22:33", None, 42]
)
def test_normalize_mac_rejects_junk(raw):
    with pytest.raises(ValueError):
        mac.normalize_mac(raw)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("fa:16:3e:11:22:33", True),
        ("00:00:00:00:00:00", False),
        ("FF:FF:FF:FF:FF:FF", False),
        ("01:00:5e:00:00:01", False),  # multicast
        ("33:33:00:00:00:01", False),  # IPv6 multicast
        ("02:00:00:00:00:01", True),  # locally administered unicast
        ("junk", False),
    ],
)
def test_mac_is_valid_for_port(value, valid):
    assert mac.mac_is_valid_for_port(value) is valid
