"""Per-role work-queue keys: which roles a wake-up concerns (pure), the queue handing every due
key to one worker, and the agent's passes on the fake dataplane: only the due roles run, in
order, on one desired state; a failed role is retried alone with its own backoff."""

from __future__ import annotations

from typing import Any

import pytest

from neutrino.agent.wake_roles import concerned, in_order, roles_here
from neutrino.agent.workqueue import WorkQueue
from neutrino.dataplane.errors import PermanentError, TemporaryError
from tests.unit.test_host_agent import VM, World, world  # noqa: F401 - the fixture
from tests.unit.test_incremental_agent import Clock

pytestmark = pytest.mark.unit

ALL = roles_here(("l2", "dhcp", "l3"), metadata=True)


# --- which roles (pure) -------------------------------------------------------------------------


def test_roles_here_are_the_configured_ones_and_metadata_when_it_runs():
    assert roles_here(("l2",), metadata=False) == {"l2"}
    assert ALL == {"l2", "dhcp", "l3", "metadata"}


def test_a_notification_concerns_the_roles_it_names_else_every_role():
    assert concerned({"roles": ["dhcp"]}, ALL) == {"dhcp"}
    assert concerned({"roles": ["l2", "l3"]}, ALL) == {"l2", "l3"}
    assert concerned({}, ALL) == ALL  # an older server
    assert concerned({"roles": ["dhcp"], "resync": True}, ALL) == ALL  # a reconnect's "look again"
    assert concerned({"roles": ["dhcp"]}, frozenset({"l2"})) == {"l2"}  # none runs here: in doubt, all


def test_a_pass_runs_dhcp_and_l3_first_then_metadata_then_l2():
    assert in_order({"l2", "dhcp"}, ALL) == ["dhcp", "metadata", "l2"]  # the proxies follow DHCP and L3
    assert in_order({"l2", "l3", "dhcp"}, ALL) == ["dhcp", "l3", "metadata", "l2"]
    assert in_order({"l2"}, ALL) == ["l2"]
    assert in_order({"metadata", "l3"}, frozenset({"l2", "l3"})) == ["l3"]  # not a role of the host


# --- the queue --------------------------------------------------------------------------------


def test_get_all_takes_every_due_key_and_each_is_done_alone():
    clock = Clock()
    q = WorkQueue(clock=clock)
    q.add("dhcp")
    q.add("l2")
    q.add_after("l3", 1.0)
    assert sorted(q.get_all(0)) == ["dhcp", "l2"]
    q.add("l2")  # while processing: once more after done
    q.done("dhcp")
    q.done("l2")
    assert q.get_all(0) == ["l2"]
    clock.now += 1.0
    q.done("l2")
    assert q.get_all(0) == ["l3"] and q.get_all(0) == []


# --- the agent's passes -------------------------------------------------------------------------


def _record_roles(world: World, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The roles' reconcilers record each run; the desired state fetches are counted."""
    ran: list[str] = []
    agent = world.agent
    for name in ("dhcp", "l3", "l2"):
        reconciler = getattr(agent, name)
        original = reconciler.reconcile
        monkeypatch.setattr(reconciler, "reconcile", lambda *a, _o=original, _n=name, **kw: (ran.append(_n), _o(*a, **kw))[1])
    return ran


def _fetches(world: World, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    count = [0]

    def fetch() -> Any:
        count[0] += 1
        return world.desired[-1]

    monkeypatch.setattr(world.agent.client, "desired_state", fetch)
    return count


def test_only_the_due_roles_run_in_order_on_one_fetch(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    ran, fetched = _record_roles(world, monkeypatch), _fetches(world, monkeypatch)
    world.agent._process(in_order(world.agent.roles, world.agent.roles))
    assert ran == ["dhcp", "l3", "l2"] and fetched[0] == 1 and world.agent.passes == 1
    ran.clear()
    sent = len(world.openflow.sent)
    world.agent._process(["dhcp"])  # a DHCP entry changed: no L2 pass, no flow or firewall work
    assert ran == ["dhcp"] and fetched[0] == 2 and len(world.openflow.sent) == sent
    ran.clear()
    world.agent._process(["l2"])  # woken by OVSDB alone: the last state serves, nothing fetched
    assert ran == ["l2"] and fetched[0] == 2 and world.agent.desired.reused == 1


def test_a_notification_queues_the_roles_it_names(world: World) -> None:
    agent = world.agent
    agent._hinted({"method": "host_changed", "ports": ["p"], "networks": [], "security_groups": [], "routers": [],
                   "roles": ["dhcp"]})  # fmt: skip
    assert agent.queue.get_all(0) == ["dhcp"]
    agent.queue.done("dhcp")
    agent._hinted({"method": "host_changed", "revision": 3})
    assert sorted(agent.queue.get_all(0)) == ["dhcp", "l2", "l3"]  # no roles named: every role (no metadata here)


def test_a_failed_role_is_retried_alone_with_its_own_backoff(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    agent, clock = world.agent, Clock()
    agent.queue = WorkQueue(clock=clock)
    ran = _record_roles(world, monkeypatch)
    dhcp_reconcile = agent.dhcp.reconcile  # type: ignore[union-attr]

    def broken(desired: Any) -> Any:
        raise TemporaryError("start", "dnsmasq", "hiccup")

    monkeypatch.setattr(agent.dhcp, "reconcile", broken)
    agent._process(["dhcp", "l3", "l2"])
    # L3 and L2 went on and reported; DHCP waits for its backoff, alone
    assert ran == ["l3", "l2"] and world.reports[-1]["up"] == [VM.port_id] and agent.passes == 0
    assert agent.queue.failures("dhcp") == 1 and agent.queue.failures("l2") == 0
    assert agent.queue.get_all(0) == []
    clock.now += agent.queue.base_delay
    assert agent.queue.get_all(0) == ["dhcp"]
    agent.queue.done("dhcp")
    agent._process(["dhcp"])  # still failing: the backoff doubles
    clock.now += agent.queue.base_delay
    assert agent.queue.get_all(0) == [] and agent.queue.failures("dhcp") == 2
    monkeypatch.setattr(agent.dhcp, "reconcile", dhcp_reconcile)
    clock.now += agent.queue.base_delay
    assert agent.queue.get_all(0) == ["dhcp"]
    agent.queue.done("dhcp")
    ran.clear()
    agent._process(["dhcp"])
    assert ran == ["dhcp"] and agent.queue.failures("dhcp") == 0 and agent.passes == 1


def test_a_permanent_failure_waits_longer_and_a_failed_fetch_fails_every_role_of_the_pass(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from neutrino.agent.runner import PERMANENT_RETRY

    agent, clock = world.agent, Clock()
    agent.queue = WorkQueue(clock=clock)

    def missing(desired: Any) -> Any:
        raise PermanentError("exec", "keepalived", "no such program")

    monkeypatch.setattr(agent.l3, "reconcile", missing)
    agent._process(["l3", "l2"])
    assert agent.queue.failures("l3") == 0 and set(agent.failures) == {"l3"}
    clock.now += PERMANENT_RETRY - 0.1
    assert agent.queue.get_all(0) == []
    clock.now += 0.1
    assert agent.queue.get_all(0) == ["l3"]
    agent.queue.done("l3")

    def down() -> Any:
        raise TemporaryError("call", "server", "away")

    monkeypatch.setattr(agent.client, "desired_state", down)
    agent.desired.invalidate()
    agent._process(["dhcp", "l2"])
    assert set(agent.failures) == {"dhcp", "l2"}
    assert agent.queue.failures("dhcp") == 1 and agent.queue.failures("l2") == 1
