"""``bench/scale.py`` run small (50 hosts on PostgreSQL and RabbitMQ): correctness only, never
timings. Every affected host applies each change, and only affected hosts are woken."""

from __future__ import annotations

import argparse

import pytest

from tests import bench_modules

pytestmark = pytest.mark.broker


def _bench():  # type: ignore[no-untyped-def]
    return bench_modules.load("scale")


def test_scale_bench_small_wakes_only_affected_hosts_and_all_apply():
    from neutrino.dataplane import rabbitmq
    from neutrino.dataplane.postgres import PostgresCluster

    reason = PostgresCluster().unavailable_reason() or rabbitmq.unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    bench = _bench()
    args = argparse.Namespace(hosts=50, ports=4, networks=20, per_process=50, settle=1.0, timeout=120.0, seed=3,
                              before=False, json=False)  # fmt: skip
    result = bench.run(args)
    for change in ("join_group", "router_interface"):
        r = result[change]
        assert r["missing"] == [] and r["applied"] == r["affected"], (change, r)
        assert r["woken_not_affected"] == 0 and r["affected_not_woken"] == 0, (change, r)
    assert result["join_group"]["affected"] == 26  # the 25 hosts of web's members, and the newcomer's
    assert result["errors"] == []
