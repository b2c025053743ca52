"""Drift: what a host's dataplane should hold against what it holds, object by object, as data.

Pure: the expected side comes from the reconcilers' own plans (``agent/audit/host.py``), the
observed side from the dataplane adapters (``agent/audit/observe.py``); each function here takes
both and returns ``Drift`` items, so every rule is tested on data without root. Only objects
neutrino owns are compared: flows with its cookie, OVS ports it names or marks, ``qrouter-``/
``qdhcp-`` namespaces, its own nftables tables. Anything else on the host is never a drift.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

KINDS = (
    "flow", "ovs_port", "port_tag", "tunnel_port", "namespace", "veth", "nft_table", "dnsmasq", "dhcp_file",
    "route", "address", "port_status",
)  # fmt: skip
"""Every drift kind (the label of ``neutrino_drift_found_total{kind}``)."""


@dataclass(frozen=True, order=True)
class Drift:
    kind: str
    object: str
    """What differs, named as an operator finds it (``br-int table 0 priority 3 in_port=...``)."""
    expected: str
    actual: str
    role: str = "l2"
    """The reconciler that owns the object and repairs it: l2, dhcp or l3 (api for port status)."""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def line(self) -> str:
        return f"{self.kind} {self.object}: expected {self.expected}, found {self.actual}"


MISSING = "missing"
PRESENT = "present"


# --- flows -------------------------------------------------------------------------------------

_INT = re.compile(r"^(0x[0-9a-fA-F]+|[0-9]+)$")
_STATS = {"duration", "n_packets", "n_bytes", "idle_age", "hard_age", "idle_timeout", "hard_timeout", "reset_counts"}


def _norm_value(value: str) -> str:
    value = value.strip().strip('"')
    return str(int(value, 0)) if _INT.match(value) else value.lower()


def norm_match(match: str) -> tuple[str, ...]:
    """A flow match as a sorted tuple of ``field=value`` with numbers in decimal and quotes gone,
    so ``tun_id=1037`` (as rendered) and ``tun_id=0x40d`` (as dumped) compare equal."""
    out = []
    for part in _split(match):
        key, sep, value = part.partition("=")
        out.append(f"{key.strip()}={_norm_value(value)}" if sep else key.strip())
    return tuple(sorted(p for p in out if p))


def norm_actions(actions: str) -> str:
    """Actions with numbers in decimal; ``learn(...)`` compared by its presence only (OVS
    rewrites its fields' spelling)."""
    actions = actions.replace('"', "")
    if actions.startswith("learn("):
        return "learn(...)" + actions[actions.rfind(")") + 1:].lower()
    actions = re.sub(r"set_tunnel:([0-9a-fx]+)", r"load:\1->NXM_NX_TUN_ID[]", actions)  # how OVS prints it back
    actions = _as_openflow10(actions)
    return re.sub(r"(?<=[:=])(0x[0-9a-fA-F]+)", lambda m: str(int(m.group(1), 16)), actions).lower()


def _as_openflow10(actions: str) -> str:
    """The agent's OpenFlow 1.3+ spellings (``agent/l2/ovs_flows.py``) as an OpenFlow 1.0 dump
    prints the same actions back: ``mod_vlan_vid``, ``strip_vlan``, ``mod_dl_src``, a tunnel id load."""
    actions = re.sub(r"(?:push_vlan:0x8100,)?set_field:(\w+)->vlan_vid",
                     lambda m: f"mod_vlan_vid:{int(m.group(1), 0) & 0xFFF}", actions)  # the VID without OFPVID_PRESENT
    actions = re.sub(r"set_field:(\w+)->tun_id", r"load:\1->NXM_NX_TUN_ID[]", actions)
    actions = re.sub(r"set_field:([0-9a-fA-F:]{17})->eth_src", r"mod_dl_src:\1", actions)
    return re.sub(r"(?<![\w:])pop_vlan(?![\w:])", "strip_vlan", actions)


def _split(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


@dataclass(frozen=True)
class DumpedFlow:
    cookie: int
    table: int
    priority: int
    match: tuple[str, ...]
    actions: str


def parse_dump_line(line: str) -> DumpedFlow | None:
    """One ``ovs-ofctl dump-flows --no-stats`` line, or None when it is not a flow."""
    head, sep, actions = line.strip().partition("actions=")
    if not sep:
        return None
    cookie, table, priority, match = 0, 0, 32768, []
    for part in _split(head.replace(" ", ",")):
        key, _, value = part.partition("=")
        if key == "cookie":
            cookie = int(value, 0)
        elif key == "table":
            table = int(value)
        elif key == "priority":
            priority = int(value)
        elif key not in _STATS:
            match.append(part)
    return DumpedFlow(cookie, table, priority, norm_match(",".join(match)), norm_actions(actions.strip()))


def flows(bridge: str, expected: Iterable[Any], dumped: Iterable[str], cookie: int) -> list[Drift]:
    """Flows of ``bridge`` with our ``cookie``: missing, changed actions, or extra. ``expected``
    are ``openflow.Flow`` values; flows with another cookie (learned, foreign) are never drift."""
    want = {(f.table, f.priority, norm_match(f.match)): (f, norm_actions(f.actions)) for f in expected}
    have: dict[tuple[int, int, tuple[str, ...]], DumpedFlow] = {}
    for line in dumped:
        flow = parse_dump_line(line)
        if flow is not None and flow.cookie == cookie:
            have[(flow.table, flow.priority, flow.match)] = flow
    out = []
    for key, (flow, actions) in sorted(want.items(), key=lambda kv: kv[0]):
        name = f"{bridge} table={flow.table},priority={flow.priority}" + (f",{flow.match}" if flow.match else "")
        got = have.get(key)
        if got is None:
            out.append(Drift("flow", name, f"actions={flow.actions}", MISSING))
        elif got.actions != actions:
            out.append(Drift("flow", name, f"actions={flow.actions}", f"actions={got.actions}"))
    for key, got in sorted(have.items(), key=lambda kv: kv[0]):
        if key not in want:
            name = f"{bridge} table={got.table},priority={got.priority}" + (f",{','.join(got.match)}" if got.match else "")
            out.append(Drift("flow", name, "absent", f"actions={got.actions}"))
    return out


# --- OVSDB ports -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortExpect:
    """One OVS port the L2 agent sets up: its bridge, and the tag, other_config keys, interface
    type and options it must carry (None: not checked)."""

    name: str
    bridge: str
    tag: int | None = None
    other_config: Mapping[str, str | None] | None = None
    iface_type: str | None = None
    options: Mapping[str, str] | None = None
    kind: str = "ovs_port"


def ovs_ports(expected: Iterable[PortExpect], observed: Iterable[Any], owned_extra: Iterable[str] = ()) -> list[Drift]:
    """Expected ports against ``dataplane.ovsdb.PortInfo`` values. ``owned_extra``: names of
    observed ports neutrino owns that no longer should exist (stale tunnel ports)."""
    have = {p.name: p for p in observed}
    out = []
    for want in expected:
        got = have.get(want.name)
        if got is None:
            out.append(Drift(want.kind, f"{want.bridge}/{want.name}", PRESENT, MISSING))
            continue
        if got.bridge != want.bridge:
            out.append(Drift(want.kind, want.name, f"on {want.bridge}", f"on {got.bridge}"))
        if want.iface_type is not None and got.iface_type != want.iface_type:
            out.append(Drift(want.kind, want.name, f"type {want.iface_type}", f"type {got.iface_type or 'system'}"))
        if want.options is not None and dict(got.iface_options) != dict(want.options):
            out.append(Drift(want.kind, want.name, f"options {_kv(want.options)}", f"options {_kv(got.iface_options)}"))
        if want.tag is not None and got.tag != want.tag:
            out.append(Drift("port_tag", want.name, f"tag {want.tag}", f"tag {got.tag}"))
        if want.other_config is not None:
            diff = {k: v for k, v in want.other_config.items() if got.port_other_config.get(k) != v}
            if diff:
                found = {k: got.port_other_config.get(k) for k in diff}
                out.append(Drift("port_tag", want.name, f"other_config {_kv(diff)}", f"other_config {_kv(found)}"))
    for name in sorted(set(owned_extra) & set(have)):
        out.append(Drift("tunnel_port", f"{have[name].bridge}/{name}", "absent", PRESENT))
    return out


def _kv(mapping: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}={v}" for k, v in sorted(mapping.items())) + "}"


# --- namespaces, links, addresses, routes ------------------------------------------------------


def presence(kind: str, expected: Iterable[str], observed: Iterable[str], role: str, stale: Iterable[str] = ()) -> list[Drift]:
    """Named objects that must exist (``expected``) and owned ones that must not (``stale``)."""
    have = set(observed)
    out = [Drift(kind, name, PRESENT, MISSING, role) for name in sorted(set(expected) - have)]
    out += [Drift(kind, name, "absent", PRESENT, role) for name in sorted(set(stale) & have)]
    return out


def sets(kind: str, name: str, expected: Iterable[str], observed: Iterable[str], role: str) -> list[Drift]:
    """One object whose members (addresses, routes) must be exactly ``expected``."""
    want, have = sorted(set(expected)), sorted(set(observed))
    if want == have:
        return []
    return [Drift(kind, name, ", ".join(want) or "none", ", ".join(have) or "none", role)]


def subset(kind: str, name: str, expected: Iterable[str], observed: Iterable[str], role: str) -> list[Drift]:
    """Members of ``expected`` missing from ``observed`` (others may be there, e.g. connected routes)."""
    missing = sorted(set(expected) - set(observed))
    return [Drift(kind, name, ", ".join(sorted(set(expected))), f"missing {', '.join(missing)}", role)] if missing else []


# --- nftables ----------------------------------------------------------------------------------

_CHAIN = re.compile(r"^\s*chain\s+(\S+)\s*\{")


def chain_rules(text: str) -> dict[str, int]:
    """Chain -> number of rules in an nft table body (rendered or listed)."""
    out: dict[str, int] = {}
    chain = None
    for raw in text.splitlines():
        line = raw.strip()
        m = _CHAIN.match(line)
        if m:
            chain = m.group(1)
            out[chain] = 0
        elif line == "}":
            chain = None
        elif chain is not None and line and not line.startswith(("type ", "policy ", "comment ")):
            out[chain] += 1
    return out


def nft_table(name: str, expected_body: str, listed: str | None, role: str) -> list[Drift]:
    """One owned table: present, with every expected chain holding as many rules as rendered."""
    if listed is None:
        return [Drift("nft_table", name, PRESENT, MISSING, role)]
    want, have = chain_rules(expected_body), chain_rules(listed)
    out = []
    for chain, n in sorted(want.items()):
        got = have.get(chain)
        if got != n:
            out.append(Drift("nft_table", f"{name} chain {chain}", f"{n} rules", MISSING if got is None else f"{got} rules", role))
    return out


# --- dnsmasq -----------------------------------------------------------------------------------


def dnsmasq(network_id: str, expected_files: Mapping[str, str], files: Mapping[str, str | None], running: bool) -> list[Drift]:
    out = []
    if not running:
        out.append(Drift("dnsmasq", f"dnsmasq for network {network_id}", "running", "not running", "dhcp"))
    for fname, text in sorted(expected_files.items()):
        got = files.get(fname)
        if got != text:
            out.append(Drift("dhcp_file", f"{network_id}/{fname}", f"{len(text.splitlines())} lines as rendered",
                             MISSING if got is None else "different content", "dhcp"))  # fmt: skip
    return out


# --- port status in the API --------------------------------------------------------------------


def port_status(wired: Iterable[str], statuses: Mapping[str, str]) -> list[Drift]:
    """Ports this host's agent has wired whose API status is not ACTIVE (``statuses``: port -> status)."""
    return [Drift("port_status", f"port {pid}", "ACTIVE", statuses[pid], "api")
            for pid in sorted(wired) if pid in statuses and statuses[pid] != "ACTIVE"]  # fmt: skip


def by_kind(drifts: Iterable[Drift]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in drifts:
        out[d.kind] = out.get(d.kind, 0) + 1
    return out
