"""The agent's side of ``neutrino trace``: run the read-only probes the server asks for on this
host's dataplane and hand back what they print.

A request names probes as data (``tools/trace/probes.py``): ``ofproto/trace`` on one of this
host's bridges, ``ip route get`` and the NAT table in one of its router namespaces. Every field
is checked against a strict pattern before anything runs, and the commands are built here, so a
request can only ever read: no shell, no other program, no namespace but a ``qrouter-``. The
answer always carries ``dpif/show`` too, which names the datapath ports of ``Datapath actions``.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

from neutrino.agent.l3.nat import TABLE as NAT_TABLE
from neutrino.dataplane.errors import DataplaneError
from neutrino.tools.trace.ofproto import parse_dpif, uplink
from neutrino.tools.trace.probes import UPLINK

LOG = logging.getLogger(__name__)

BRIDGE = re.compile(r"^br-[A-Za-z0-9_.-]{1,12}$")
IFNAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
FLOW = re.compile(r"^[A-Za-z0-9_=,:./-]{1,600}$")
NAMESPACE = re.compile(r"^qrouter-[0-9a-f-]{36}$")
MAX_PROBES = 16

Appctl = Callable[..., str]
Run = Callable[[Sequence[str], str], str]
"""(argv, namespace) -> standard output; raises DataplaneError."""


class BadProbe(ValueError):
    pass


def _ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError as exc:
        raise BadProbe(f"not an IP address: {text!r}") from exc


def _need(pattern: re.Pattern[str], value: Any, what: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise BadProbe(f"bad {what}: {value!r}")
    return value


def command(probe: dict[str, Any], dpif: str) -> tuple[str, list[str], str | None]:
    """("appctl" | "run", argv, namespace base) for one probe; raises BadProbe."""
    kind = probe.get("kind")
    if kind == "ofproto":
        bridge = _need(BRIDGE, probe.get("bridge"), "bridge")
        in_port = probe.get("in_port")
        if in_port == UPLINK:
            in_port = uplink(parse_dpif(dpif), bridge)
            if in_port is None:
                raise BadProbe(f"{bridge} has no single NIC to start from")
        in_port = _need(IFNAME, in_port, "in_port")
        flow = _need(FLOW, probe.get("flow"), "flow")
        return "appctl", ["ofproto/trace", bridge, f"in_port={in_port},{flow}"], None
    if kind not in ("route", "nat"):
        raise BadProbe(f"unknown probe kind {kind!r}")
    namespace = _need(NAMESPACE, probe.get("namespace"), "namespace")
    if kind == "route":
        argv = ["ip", "route", "get", _ip(probe.get("dst", "")), "from", _ip(probe.get("src", "")),
                "iif", _need(IFNAME, probe.get("iif"), "iif")]  # fmt: skip
        return "run", argv, namespace
    return "run", ["nft", "list", "table", "ip", NAT_TABLE], namespace


def run_probes(probes: list[dict[str, Any]], appctl: Appctl, run: Run, namespace: Callable[[str], str]) -> dict[str, Any]:
    """``{"dpif": ..., "results": {id: {"ok", "output"}}}``; a probe that fails says why."""
    try:
        dpif = appctl("dpif/show")
    except DataplaneError as exc:
        return {"error": f"ovs-appctl dpif/show failed: {exc}"}
    results: dict[str, Any] = {}
    for probe in probes[:MAX_PROBES]:
        pid = str(probe.get("id", ""))[:32]
        try:
            how, argv, ns = command(probe, dpif)
            output = appctl(*argv) if how == "appctl" else run(argv, namespace(ns or ""))
            results[pid] = {"ok": True, "output": output}
        except (BadProbe, DataplaneError) as exc:
            results[pid] = {"ok": False, "output": str(exc)}
    return {"dpif": dpif, "results": results}
