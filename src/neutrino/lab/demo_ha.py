"""The demo's checks that depend on the lab's shape: the HA router's agents, the DHCP agents of
each network, and the metadata service seen from an instance.

On a lab with several network nodes (examples/ha.yaml: ``l3_ha``, ``dhcp_agents_per_network``
2) the router is HA, one L3 agent active and the other standby (``ha_state`` of
``GET /v2.0/routers/{id}/l3-agents``), and each network is served by as many DHCP agents as the
server's setting asks (at most one per network node). The verdicts are pure functions of the
API's answers, unit-tested; the polling and the instance's HTTP request are the side effects.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from typing import Any, TypeVar

from neutrino.dataplane import exec as programs
from neutrino.dataplane.errors import CommandTimeout
from neutrino.lab import resolve
from neutrino.lab.api import LabApi
from neutrino.lab.probes import Check

METADATA_URL = "http://169.254.169.254/openstack/latest/meta_data.json"
SETTLE_S = 40.0
"""How long a check waits for the state it expects (keepalived's first election, the second
DHCP agent's scheduling, the metadata proxy's start) before it reports what it saw."""

T = TypeVar("T")


def hosts_with(lab: resolve.ResolvedLab, role: str) -> list[str]:
    """The lab's hosts of one role, in the lab file's order (the seed: ``network``; ha.yaml:
    ``network1``, ``network2``)."""
    return [h.name for h in lab.hosts if role in h.roles]


def expected_dhcp_agents(lab: resolve.ResolvedLab) -> int:
    """How many DHCP agents serve each network: the server's ``dhcp_agents_per_network``
    (default 1, docs/neutron-behaviour.md) where there are that many network nodes."""
    wanted = int((lab.source.get("server") or {}).get("dhcp_agents_per_network", 1))
    return max(1, min(wanted, len(hosts_with(lab, "network"))))


def ha_router_check(router: dict[str, Any], agents: list[dict[str, Any]]) -> Check:
    """The router is HA with one active and one (or more) standby L3 agents."""
    states = {a.get("host", "?"): a.get("ha_state") or "-" for a in agents}
    values = sorted(states.values())
    ok = router.get("ha") is True and values.count("active") == 1 and values.count("standby") == len(values) - 1 >= 1
    shown = ", ".join(f"{host} {state}" for host, state in sorted(states.items()))
    return Check(f"HA router {router.get('name')}: one active, one standby L3 agent", ok, f"ha={router.get('ha')}; {shown}")


def dhcp_agents_check(network: dict[str, Any], agents: list[dict[str, Any]], expected: int) -> Check:
    """The network is served by ``expected`` live DHCP agents, each on its own host."""
    hosts = sorted({a.get("host", "?") for a in agents if a.get("alive", True)})
    ok = len(agents) == expected and len(hosts) == expected
    return Check(f"{network.get('name')}: served by {expected} DHCP agents", ok, ", ".join(hosts) or "no DHCP agent")


def metadata_check(vm_name: str, vm_uuid: str, answer: subprocess.CompletedProcess[str]) -> Check:
    """The instance's ``meta_data.json`` names it: its own uuid and name."""
    name = f"metadata: {vm_name} → 169.254.169.254, its own meta_data.json"
    if answer.returncode != 0:
        return Check(name, False, (answer.stderr or answer.stdout or f"exit {answer.returncode}").strip()[-200:])
    try:
        meta = json.loads(answer.stdout)
    except json.JSONDecodeError:
        return Check(name, False, f"not JSON: {answer.stdout[:120]!r}")
    ok = isinstance(meta, dict) and meta.get("uuid") == vm_uuid and meta.get("name") == vm_name
    return Check(name, ok, f"uuid {meta.get('uuid') if isinstance(meta, dict) else meta}")


def _poll(fn: Callable[[], T], done: Callable[[T], bool], timeout: float = SETTLE_S, every: float = 0.5) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(every)


def ha_checks(lab: resolve.ResolvedLab, api: LabApi, router_id: str, networks: list[dict[str, Any]]) -> list[Check]:
    """On a lab with two or more network nodes: the router's HA state and each network's DHCP
    agents, each polled until it holds or ``SETTLE_S`` passes."""
    if len(hosts_with(lab, "network")) < 2:
        return []
    router = api.request("GET", f"routers/{router_id}")["router"]

    def ha() -> Check:
        return ha_router_check(router, api.request("GET", f"routers/{router_id}/l3-agents")["agents"])

    out = [_poll(ha, lambda c: c.ok)]
    expected = expected_dhcp_agents(lab)
    for net in networks:
        def dhcp(net: dict[str, Any] = net) -> Check:
            return dhcp_agents_check(net, api.request("GET", f"networks/{net['id']}/dhcp-agents")["agents"], expected)

        out.append(_poll(dhcp, lambda c: c.ok))
    return out


def metadata(netns: str, vm_name: str, vm_uuid: str) -> Check:
    """busybox wget from the instance (no -T: Debian's busybox 1.35 wget crashes with it),
    polled while the router's metadata proxy comes up."""

    def fetch() -> Check:
        try:
            answer = programs.run(["busybox", "wget", "-q", "-O-", METADATA_URL], netns=netns, check=False, timeout=10)
        except CommandTimeout:
            answer = subprocess.CompletedProcess([], 124, "", "timed out")
        return metadata_check(vm_name, vm_uuid, answer)

    return _poll(fetch, lambda c: c.ok)
