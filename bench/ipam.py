"""IPAM's pure address choice on the pools that could make it slow, against targets.

A /64 (2^64 addresses: the choice must never walk the pool) and a /16 with two free addresses
left (the choice must not be quadratic in the allocated set). The unit tests check what is
chosen; this prints how long it takes, beside the targets the unit tier used to assert
(tests never assert timings).

Usage: ``./dev bench ipam [--repeat N]``. Takes a few seconds.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from neutrino.domain.ipam import addresses, pools

TARGETS_S = {"/64, 10 allocated": 0.5, "/16, 2 free": 2.0}


def huge_ipv6() -> None:
    p = pools.generate_pools("2001:db8::/64", "2001:db8::1")
    allocated = {f"2001:db8::{i:x}" for i in range(2, 12)}
    addresses.pick_address(p, allocated, prefer_lowest=True)
    addresses.pick_address(p, allocated, prefer_lowest=False)
    addresses.count_free(p, allocated)


def nearly_full_slash16() -> Callable[[], None]:
    p = pools.generate_pools("10.0.0.0/16", "10.0.0.1")
    allocated = {f"10.0.{i >> 8}.{i & 255}" for i in range(2, 65535)} - {"10.0.200.7", "10.0.255.250"}

    def run() -> None:
        addresses.pick_address(p, allocated, prefer_lowest=True)
        addresses.pick_address(p, allocated, prefer_lowest=False)
        addresses.count_free(p, allocated)

    return run


def best_of(work: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cases = {"/64, 10 allocated": huge_ipv6, "/16, 2 free": nearly_full_slash16()}
    print(f"{'case':<20} {'best s':>9} {'target s':>9}  verdict")
    for name, work in cases.items():
        seconds = best_of(work, args.repeat)
        verdict = "ok" if seconds < TARGETS_S[name] else "SLOWER THAN TARGET"
        print(f"{name:<20} {seconds:>9.4f} {TARGETS_S[name]:>9.1f}  {verdict}")


if __name__ == "__main__":
    main()
