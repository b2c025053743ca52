"""``agent/firewall/merge.py``: host addresses merged without ``collapse_addresses`` give what
it gives (random inputs, mixed with prefixes, "any" and the other version)."""

from __future__ import annotations

import ipaddress
import random

import pytest

from neutrino.agent.firewall.merge import merged

pytestmark = pytest.mark.unit


def _reference(prefixes: list[str], version: int) -> tuple[str, ...] | None:
    nets = [n for n in (ipaddress.ip_network(p, strict=False) for p in prefixes) if n.version == version]
    if any(n.prefixlen == 0 for n in nets):
        return None
    return tuple(str(n.network_address) if n.prefixlen == n.max_prefixlen else str(n)
                 for n in ipaddress.collapse_addresses(nets))  # type: ignore[type-var]


def test_merged_equals_collapse_addresses():
    rng = random.Random(7)
    for _ in range(1500):
        pool = [f"10.0.{rng.randint(0, 3)}.{rng.randint(0, 255)}" for _ in range(rng.randint(0, 40))]
        pool += [f"fe80::{rng.randint(0, 20):x}" for _ in range(rng.randint(0, 3))]
        if rng.random() < 0.2:
            pool.append(f"10.0.{rng.randint(0, 3)}.0/{rng.choice([24, 25, 30, 32])}")
        if rng.random() < 0.05:
            pool.append("0.0.0.0/0")
        for version in (4, 6):
            assert merged(tuple(pool), version) == _reference(pool, version), pool


def test_consecutive_members_become_prefixes():
    assert merged(("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.0", "10.0.0.9"), 4) == ("10.0.0.0/30", "10.0.0.9")


def test_bare_addresses_of_both_versions_merge_as_collapse_addresses():
    """The integer path (no ``/`` in the input): IPv6 runs, IPv4-mapped and zero-compressed
    forms written back as ``ipaddress`` writes them, duplicates once."""
    rng = random.Random(11)
    for _ in range(800):
        pool = [f"192.168.{rng.randint(0, 1)}.{rng.randint(0, 255)}" for _ in range(rng.randint(0, 30))]
        pool += [f"2001:db8::{rng.randint(0, 40):x}" for _ in range(rng.randint(0, 20))]
        pool += rng.sample(["::ffff:10.0.0.1", "::", "::1", "2001:DB8:0:0:0:0:0:7", "fe80::1"], rng.randint(0, 3))
        for version in (4, 6):
            assert merged(tuple(pool), version) == _reference(pool, version), pool


def test_a_malformed_bare_address_is_refused_as_ipaddress_refuses_it():
    for bad in ("010.0.0.1", "10.0.0", "10.0.0.256", "2001:db8:::1"):
        with pytest.raises(ValueError):
            merged((bad,), 6 if ":" in bad else 4)
        with pytest.raises(ValueError):
            _reference([bad], 6 if ":" in bad else 4)
