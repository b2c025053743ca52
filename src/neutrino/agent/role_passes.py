"""What each role does in one of the agent's passes (``agent/runner.py`` runs them in the order
``agent/wake_roles.py`` gives, on one desired state).

Each takes the agent and the pass's desired state, applies its role, and notes in ``learnt``
what the pass reports to the server in its one call at the end (the L2 result, floating IP
statuses). DHCP readiness goes at once: an instance's port waits for it, not for the L2 pass.
A part of a role that failed (a network, a router, a proxy) queues that role again soon; an
exception fails the role alone, which the worker retries with its own backoff.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from neutrino.contract.desired import DesiredHostState

if TYPE_CHECKING:
    from neutrino.agent.runner import HostAgent

RETRY_FAILED_PARTS = 1.0
"""Seconds before a role in which a DHCP network, a router or a proxy failed runs again."""


def dhcp(agent: HostAgent, desired: DesiredHostState, learnt: dict[str, Any]) -> None:
    assert agent.dhcp is not None
    done = agent.dhcp.reconcile(desired)
    agent.served = done.networks
    revisions = {p.port_id: p.revision_number for n in desired.dhcp_networks for p in n.ports}
    now_ready = {pid: revisions.get(pid, 0) for pid in done.ready_port_ids}
    # (re)report ports new in dnsmasq's config, or changed since (a binding adds a DHCP block)
    ready = sorted(pid for pid, rev in now_ready.items() if agent.dhcp_ready.get(pid) != rev)
    agent.metrics.applied("dhcp", {"networks_removed": len(done.removed), "ports_ready": len(ready)})
    if ready:  # at once: an instance's port waits for it, not for this host's L2 pass (flows)
        agent.client.report_pass(dhcp_ready=ready)
    agent.dhcp_ready = now_ready
    if done.failed:  # a network failed: look again soon, without blocking the others
        agent.queue.add_after("dhcp", RETRY_FAILED_PARTS)


def l3(agent: HostAgent, desired: DesiredHostState, learnt: dict[str, Any]) -> None:
    assert agent.l3 is not None
    # the router ports of routers scheduled here are bound here (as Neutron's sync_routers);
    # an HA router's only where it is active (the server binds them when told the state)
    local = {p.port_id for p in desired.ports}
    mine = agent.ha_report.bindable(desired.routers)
    wanted = [i.port_id for r in mine for i in r.interfaces]
    wanted += [r.gateway.port_id for r in mine if r.gateway is not None]
    if set(wanted) - local:
        agent.client.bind_ports(sorted(set(wanted) - local))
    done = agent.l3.reconcile(desired)
    moved = agent.ha_report.after_pass(done.ha_states)  # ports moved: look again
    learnt["fip_changed"] = {k: v for k, v in done.fip_statuses.items() if agent.fip_statuses.get(k) != v}
    learnt["fip_statuses"] = dict(done.fip_statuses)
    agent.metrics.applied("l3", {"changes": done.changes, "routers_removed": len(done.removed)})
    if moved or done.failed:  # a router failed: look again soon, without blocking the others
        agent.queue.add_after("l3", RETRY_FAILED_PARTS)


def metadata(agent: HostAgent, desired: DesiredHostState, learnt: dict[str, Any]) -> None:
    assert agent.metadata is not None
    if agent.metadata.reconcile(desired, agent.served):  # a proxy failed: look again soon
        agent.queue.add_after("metadata", RETRY_FAILED_PARTS)


def l2(agent: HostAgent, desired: DesiredHostState, learnt: dict[str, Any]) -> None:
    learnt["l2"] = agent.l2.reconcile(desired)


ROLE_PASSES: dict[str, Callable[[HostAgent, DesiredHostState, dict[str, Any]], None]] = {
    "dhcp": dhcp, "l3": l3, "metadata": metadata, "l2": l2,
}
