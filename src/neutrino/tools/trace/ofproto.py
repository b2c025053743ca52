"""Read what ``ovs-appctl ofproto/trace`` and ``ovs-appctl dpif/show`` print, as data.

``ofproto/trace`` prints the flow it was given, then for every bridge the packet crosses (it
follows patch ports, and prints a nested block for the bridge a native tunnel leaves by) a
``bridge("br-x")`` header and one entry per table lookup: ``<table>. <match>, priority <p>,
cookie <c>`` and, indented under it, the actions run and notes (``-> forwarding to learned
port``, ``-> tunneling to 172.31.0.1 via br-phy``); then ``Final flow``, ``Megaflow`` and
``Datapath actions``, the datapath ports the packet leaves by (docs/trace.md, with captured
outputs in tests/fixtures/trace/). ``dpif/show`` names those datapath ports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

BRIDGE = re.compile(r'^\s*bridge\("([^"]+)"\)\s*$')
ENTRY = re.compile(r"^\s*(\d+)\.\s+(.*)$")
VLAN_SET = re.compile(r"^set_field:(\d+)->vlan_vid$|^mod_vlan_vid:(\d+)$")
TUN_SET = re.compile(r"^set_field:(0x[0-9a-f]+|\d+)->tun_id$|^set_tunnel:(0x[0-9a-f]+|\d+)$"
                     r"|^load:(0x[0-9a-f]+|\d+)->NXM_NX_TUN_ID\[\]$")
TUNNEL_TO = re.compile(r"tunneling from \S+ (\S+) to \S+ (\S+)")
DPIF_BRIDGE = re.compile(r"^  (\S+):$")
DPIF_PORT = re.compile(r"^\s{4}(\S+) (\d+)/(\d+|none): \(([^):]+)")


@dataclass(frozen=True)
class Lookup:
    """One table lookup in one bridge: the flow that matched and what it did."""

    bridge: str
    table: int
    match: str
    priority: int | None
    actions: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def flow(self) -> str:
        """The matched flow as ``ovs-ofctl dump-flows`` would show its match."""
        if self.priority is None:
            return self.match
        return f"table={self.table}, priority={self.priority}" + (f",{self.match}" if self.match else "")

    def vlan_set(self) -> int | None:
        """The VID this lookup sets (``set_field:4196->vlan_vid`` is VID 100, the CFI bit on)."""
        for a in self.actions:
            m = VLAN_SET.match(a)
            if m:
                return int(m.group(1)) & 0xFFF if m.group(1) else int(m.group(2))
        return None

    def vlan_matched(self) -> int | None:
        """The VID the flow matches: ``dl_vlan=2``, or ``vlan_tci=0x0002/0x0fff`` (a learned flow)."""
        m = re.search(r"(?:^|,)dl_vlan=(\d+)", self.match)
        if m:
            return int(m.group(1))
        m = re.search(r"(?:^|,)vlan_tci=(0x[0-9a-f]+)/(0x[0-9a-f]+)", self.match)
        if m and int(m.group(2), 16) & 0xFFF == 0xFFF:
            return int(m.group(1), 16) & 0xFFF
        return None

    def tunnel_set(self) -> int | None:
        for a in self.actions:
            m = TUN_SET.match(a)
            if m:
                return int(m.group(1) or m.group(2) or m.group(3), 0)
        return None

    def tunnel_matched(self) -> int | None:
        m = re.search(r"(?:^|,)tun_id=(0x[0-9a-f]+|\d+)", self.match)
        return int(m.group(1), 0) if m else None

    @property
    def drops(self) -> bool:
        return self.actions[-1:] == ("drop",) or self.match.startswith("No match")


@dataclass(frozen=True)
class Trace:
    flow: str
    lookups: tuple[Lookup, ...]
    final_flow: str
    datapath_actions: str
    tunnels: tuple[tuple[str, str], ...] = field(default=())
    """(outer source IP, outer destination IP) of each native tunnel the packet leaves by."""

    def bridges(self) -> list[str]:
        seen: list[str] = []
        for lk in self.lookups:
            if lk.bridge not in seen:
                seen.append(lk.bridge)
        return seen

    def output_ports(self) -> list[int]:
        """The datapath ports of ``Datapath actions`` (top level and tunnels' ``out_port``)."""
        ports = []
        depth = 0
        token = ""
        for ch in self.datapath_actions + ",":
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            if ch == "," and depth == 0:
                if token.strip().isdigit():
                    ports.append(int(token.strip()))
                token = ""
            else:
                token += ch
        return ports

    def vnis(self) -> list[int]:
        return [int(v, 16) for v in re.findall(r"vni=0x([0-9a-f]+)", self.datapath_actions)]

    def pushed_vids(self) -> list[int]:
        return [int(v) for v in re.findall(r"push_vlan\(vid=(\d+)", self.datapath_actions)]

    @property
    def dropped(self) -> bool:
        return self.datapath_actions.strip() in ("", "drop")


def parse_trace(text: str) -> Trace:
    """Parse one ``ofproto/trace`` output. A nested bridge (the one a native tunnel leaves by) is
    indented deeper; an action line belongs to the latest lookup whose text starts in its column
    (so ``output:3`` after a nested block goes back to the lookup that ran it), a note (``->``)
    to the latest lookup that starts left of it."""
    flow, final, dp_actions = "", "", ""
    bridge = ""
    entries: list[dict] = []  # type: ignore[type-arg]
    tunnels: list[tuple[str, str]] = []

    def owner(column: int, note: bool) -> dict | None:  # type: ignore[type-arg]
        for e in reversed(entries):
            if e["column"] == column or (note and e["column"] < column):
                return e
        return entries[-1] if entries else None

    for raw in text.splitlines():
        line = raw.strip()
        column = len(raw) - len(raw.lstrip())
        if raw.startswith("Flow: "):
            flow = line[len("Flow: "):]
        elif raw.startswith("Final flow: "):
            final = line[len("Final flow: "):]
        elif raw.startswith("Datapath actions: "):
            dp_actions = line[len("Datapath actions: "):]
        elif raw.startswith("Megaflow: ") or not line or set(line) == {"-"}:
            continue
        elif m := BRIDGE.match(raw):
            bridge = m.group(1)
        elif (m := ENTRY.match(raw)) and bridge:
            head = m.group(2)
            match, priority = head, None
            pm = re.match(r"^(.*?)(?:,\s*)?priority (\d+)(?:,.*)?$", head)
            if pm:
                match, priority = pm.group(1).rstrip(", "), int(pm.group(2))
            entries.append({"bridge": bridge, "table": int(m.group(1)), "match": match, "priority": priority,
                            "actions": [], "notes": [], "column": len(raw) - len(head)})  # fmt: skip
        elif entries:
            note = line.startswith(("->", ">>"))
            e = owner(column, note)
            if e is None:
                continue
            if note:
                e["notes"].append(line[2:].strip())
                t = TUNNEL_TO.search(line)
                if t:
                    tunnels.append((t.group(1), t.group(2)))
            else:
                e["actions"].append(line)
    lookups = tuple(Lookup(e["bridge"], e["table"], e["match"], e["priority"], tuple(e["actions"]), tuple(e["notes"]))
                    for e in entries)  # fmt: skip
    return Trace(flow, lookups, final, dp_actions, tuple(tunnels))


@dataclass(frozen=True)
class DpPort:
    bridge: str
    name: str
    ofport: int
    dp_port: int | None
    type: str


def parse_dpif(text: str) -> list[DpPort]:
    out = []
    bridge = ""
    for raw in text.splitlines():
        if m := DPIF_BRIDGE.match(raw):
            bridge = m.group(1)
        elif (m := DPIF_PORT.match(raw)) and bridge:
            dp = None if m.group(3) == "none" else int(m.group(3))
            out.append(DpPort(bridge, m.group(1), int(m.group(2)), dp, m.group(4).strip()))
    return out


def dp_names(ports: list[DpPort]) -> dict[int, str]:
    """datapath port number -> port name (patch ports have none)."""
    return {p.dp_port: p.name for p in ports if p.dp_port is not None}


def uplink(ports: list[DpPort], bridge: str) -> str | None:
    """The NIC of a physnet bridge: its port that is neither a patch nor its own internal port."""
    found = [p.name for p in ports if p.bridge == bridge and p.name != bridge and not p.type.startswith("patch")]
    return found[0] if len(found) == 1 else None
