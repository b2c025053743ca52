"""Parallel network creates never share a segment, and running out is a clean 503.

The real service functions run in many threads against one database (SQLite file, then
PostgreSQL), each create in its own project so that the per-project quota lock does not
serialise them: allocation alone must keep them apart (UPDATE ... WHERE allocated = false,
retried on a lost race).
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from neutrino import errors
from neutrino.db.engine import run_in_transaction
from neutrino.domain.context import Context
from neutrino.domain.models import NetworkSegment, VlanAllocation, VxlanAllocation
from neutrino.domain.services import networks
from tests.conftest import make_settings

pytestmark = pytest.mark.api

THREADS = 8


@pytest.fixture
def state(tmp_path, database_url):
    from neutrino.server import build

    settings = make_settings(
        tmp_path,
        database_url=database_url,
        vni_ranges=["1:40"],
        network_vlan_ranges=["physnet1:100:129"],
        tenant_network_types=["vxlan"],
    )
    built = build(settings, write_files=False)
    yield built.state
    built.state.close()


def _create_in_parallel(state, count, extra):
    barrier = threading.Barrier(THREADS)

    def one(i):
        project = f"p{i}"
        ctx = Context.admin(project)
        if i < THREADS:
            barrier.wait()
        try:
            run_in_transaction(
                state.sessions,
                lambda s: networks.create(s, ctx, state.domain, {"project_id": project, **extra}),
            )
            return "ok"
        except errors.NoNetworkAvailable:
            return "full"
        except errors.VlanIdInUse:
            return "taken"

    with ThreadPoolExecutor(THREADS) as pool:
        return Counter(pool.map(one, range(count)))


def _segments(state, network_type):
    with state.sessions() as s:
        return list(
            s.execute(
                select(NetworkSegment.physical_network, NetworkSegment.segmentation_id).where(
                    NetworkSegment.network_type == network_type
                )
            )
        )


def _allocated(state, model):
    with state.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(model.allocated.is_(True)))


def test_parallel_tenant_vxlan(state):
    outcome = _create_in_parallel(state, 60, {})
    assert outcome == {"ok": 40, "full": 20}
    segs = _segments(state, "vxlan")
    assert sorted(seg for _, seg in segs) == list(range(1, 41))
    assert _allocated(state, VxlanAllocation) == 40
    with state.sessions() as s:
        assert s.scalar(select(func.count()).select_from(networks.Network)) == 40  # nothing half-written


def test_parallel_vlan_allocation(state):
    outcome = _create_in_parallel(
        state, 45, {"provider:network_type": "vlan", "provider:physical_network": "physnet1"}
    )
    assert outcome == {"ok": 30, "full": 15}
    segs = _segments(state, "vlan")
    assert sorted(seg for _, seg in segs) == list(range(100, 130))
    assert _allocated(state, VlanAllocation) == 30


def test_parallel_requests_for_one_vlan(state):
    extra = {"provider:network_type": "vlan", "provider:physical_network": "physnet1", "provider:segmentation_id": 120}
    assert _create_in_parallel(state, 16, extra) == {"ok": 1, "taken": 15}
    # and the same outside the ranges, where the row is inserted rather than flipped
    extra["provider:segmentation_id"] = 500
    assert _create_in_parallel(state, 16, extra) == {"ok": 1, "taken": 15}
