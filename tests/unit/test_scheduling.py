"""Pure scheduling decisions: liveness with an injected clock, least loaded choice, L3 suitability,
dead-agent detection, and the background check's start-up grace period."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta

import pytest

from neutrino.domain.config import DomainConfig
from neutrino.domain.scheduling import choice
from neutrino.domain.scheduling.choice import AgentView
from neutrino.domain.scheduling.dhcp import dhcp_device_id
from neutrino.domain.scheduling.periodic import AgentStatusCheck
from neutrino.periodic import Periodic

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 25, 12, 0, 0)
DOWN = 75


def agent(
    id_: str,
    *,
    host: str | None = None,
    kind: str = choice.DHCP_AGENT,
    up: bool = True,
    age: int = 0,
    **conf: object,
) -> AgentView:
    return AgentView(id_, host or f"host-{id_}", kind, up, NOW - timedelta(seconds=age), conf)


def test_alive_until_agent_down_time_inclusive():
    assert choice.is_alive(NOW - timedelta(seconds=75), NOW, DOWN)
    assert not choice.is_alive(NOW - timedelta(seconds=76), NOW, DOWN)
    assert choice.is_alive(NOW + timedelta(seconds=5), NOW, DOWN)  # clock skew: still alive


def test_dead_too_long_is_twice_the_down_time():
    assert choice.dead_limit(DOWN) == timedelta(seconds=150)
    assert not choice.is_dead_too_long(NOW - timedelta(seconds=150), NOW, DOWN)
    assert choice.is_dead_too_long(NOW - timedelta(seconds=151), NOW, DOWN)


def test_least_loaded_breaks_ties_by_host_then_id():
    agents = [agent("b", host="h2"), agent("a", host="h2"), agent("c", host="h1")]
    assert choice.least_loaded(agents, {}, 3) == ["c", "a", "b"]
    assert choice.least_loaded(agents, {"c": 2, "a": 1}, 2) == ["b", "a"]
    assert choice.least_loaded(agents, {}, 0) == []


def test_dhcp_choice_skips_dead_disabled_foreign_and_hosting_agents():
    agents = [
        agent("live"),
        agent("busy"),
        agent("dead", age=DOWN + 1),
        agent("off", up=False),
        agent("l3", kind=choice.L3_AGENT),
        agent("hosting"),
    ]
    loads = {"busy": 3, "live": 1}
    pick = choice.choose_dhcp_agents(agents, ["hosting"], loads, per_network=2, now=NOW, down_time=DOWN)
    assert pick == ["live"]
    pick = choice.choose_dhcp_agents(agents, [], loads, per_network=2, now=NOW, down_time=DOWN)
    assert pick == ["hosting", "live"]  # hosting has no load recorded here: 0 < 1
    # already enough agents (even a dead one counts until failover moves it)
    assert choice.choose_dhcp_agents(agents, ["dead"], {}, per_network=1, now=NOW, down_time=DOWN) == []
    assert choice.choose_dhcp_agents([agent("dead", age=999)], [], {}, per_network=1, now=NOW, down_time=DOWN) == []


def test_l3_suitability_follows_agent_configuration():
    l3 = choice.L3_AGENT
    assert choice.can_host_router(agent("a", kind=l3), None, "r1")
    assert not choice.can_host_router(agent("a"), None, "r1")  # a DHCP agent
    assert not choice.can_host_router(agent("a", kind=l3, agent_mode="dvr"), None, "r1")
    assert not choice.can_host_router(agent("a", kind=l3, agent_mode="dvr_no_external"), None, "r1")
    assert choice.can_host_router(agent("a", kind=l3, agent_mode="dvr_snat"), "ext", "r1")
    assert not choice.can_host_router(agent("a", kind=l3, router_id="r2"), None, "r1")
    assert choice.can_host_router(agent("a", kind=l3, router_id="r1"), None, "r1")
    internal_off = agent("a", kind=l3, handle_internal_only_routers=False)
    assert not choice.can_host_router(internal_off, None, "r1") and choice.can_host_router(internal_off, "ext", "r1")
    pinned_net = agent("a", kind=l3, gateway_external_network_id="ext")
    assert choice.can_host_router(pinned_net, "ext", "r1") and not choice.can_host_router(pinned_net, "other", "r1")


def test_l3_choice_least_loaded_excluding_some():
    l3 = choice.L3_AGENT
    agents = [agent("a", kind=l3), agent("b", kind=l3), agent("c", kind=l3, age=999), agent("d", kind=l3, up=False)]
    kw = {"router_id": "r", "gateway_network_id": None, "now": NOW, "down_time": DOWN}
    assert choice.choose_l3_agent(agents, {"a": 2, "b": 1}, **kw) == "b"
    assert choice.choose_l3_agent(agents, {"a": 2, "b": 1}, exclude=["b"], **kw) == "a"
    assert choice.choose_l3_agent(agents, {}, exclude=["a", "b"], **kw) is None


def test_dead_agents_are_enabled_and_silent_too_long():
    agents = [agent("ok"), agent("down", age=100), agent("gone", age=151), agent("off", up=False, age=999)]
    assert [a.id for a in choice.dead_agents(agents, NOW, DOWN)] == ["gone"]


def test_status_check_waits_after_start_and_respects_the_options():
    clock = [NOW]
    check = AgentStatusCheck(None, DomainConfig(), clock=lambda: clock[0])  # type: ignore[arg-type]
    assert check.interval == 37.5 and check.enabled
    assert check.in_grace_period(NOW + timedelta(seconds=149))
    assert check.run_once(NOW + timedelta(seconds=100)) == []  # no database touched in the grace period
    assert not check.in_grace_period(NOW + timedelta(seconds=150))
    clock[0] = NOW + timedelta(seconds=149)
    check.restart()  # the server starts serving: the grace period counts from now
    assert check.in_grace_period(NOW + timedelta(seconds=200))
    off = DomainConfig(allow_automatic_dhcp_failover=False, allow_automatic_l3agent_failover=False)
    assert not AgentStatusCheck(None, off).enabled  # type: ignore[arg-type]


def test_periodic_job_runs_until_stopped_and_survives_a_failed_round():
    rounds: list[int] = []
    done = threading.Event()

    def work() -> None:
        rounds.append(1)
        if len(rounds) == 1:
            raise RuntimeError("a failed round")
        done.set()

    started: list[bool] = []
    job = Periodic("test-periodic", 0.001, work, on_start=lambda: started.append(True))
    job.start()
    job.start()  # already running: no second thread
    assert done.wait(30)
    job.stop()
    assert started == [True] and len(rounds) >= 2
    assert not [t for t in threading.enumerate() if t.name == "test-periodic"]


def test_dhcp_port_device_id_is_neutrons():
    # dhcp<uuid5(DNS namespace, short host name)>-<network id>; a domain name does not change it
    assert dhcp_device_id("net-1", "compute1.example.org") == dhcp_device_id("net-1", "compute1")
    assert dhcp_device_id("net-1", "compute1") == f"dhcp{uuid.uuid5(uuid.NAMESPACE_DNS, 'compute1')}-net-1"
