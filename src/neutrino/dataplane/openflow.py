"""OpenFlow tables as data, installed atomically with ovs-ofctl bundles.

An agent computes the whole desired table of a bridge as ``Flow`` values. The first time (and after
``forget``, on resync or when vswitchd restarted and lost its flows, docs/dataplane.md) the table is
replaced as a whole with ``--bundle replace-flows``; afterwards only the difference against what
was last applied goes out, as one ``--bundle add-flows`` file of ``add`` and ``delete_strict`` lines
(ovs-ofctl 3.1 accepts per-line commands there, and a bundle applies all or nothing). Deletes carry
``cookie=<ours>/-1`` so a flow someone else put on the same key is left alone. Note that
replace-flows also removes flows that were not ours (learned flows, another cookie); after
``forget(keep_foreign=True)`` (the audit's repair, docs/audit.md) the replace is one bundle of
``delete cookie=<ours>/-1`` and the adds instead, which leaves every other cookie's flows alone.

Bundles need OpenFlow 1.4: bridges must allow it, so ``Ovsdb.add_bridge`` callers pass
``protocols=PROTOCOLS``. ovs-ofctl finds ``<rundir>/<bridge>.mgmt`` through OVS_RUNDIR.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from neutrino.dataplane import daemons
from neutrino.dataplane import exec as programs
from neutrino.dataplane.errors import CommandFailed, PermanentError, TemporaryError
from neutrino.dataplane.host import HostContext

COOKIE = 0x6E65_7574_7269_6E6F  # "neutrino" in ASCII: marks every flow we install
PROTOCOLS = "OpenFlow10,OpenFlow13,OpenFlow14"

FlowKey = tuple[int, int, str]
Meter = tuple[int, int]
"""(rate, burst) in kbit/s and kbit of a drop band: the QoS bandwidth limits (docs/dataplane.md, "QoS")."""


def meter_spec(meter_id: int, meter: Meter) -> str:
    rate, burst = meter
    return f"meter={meter_id},kbps,burst,band=type=drop,rate={rate},burst_size={burst}"


def parse_meters(text: str) -> dict[int, Meter]:
    """``ovs-ofctl -O OpenFlow13 dump-meters`` output -> meter id -> (rate, burst) of its drop band."""
    out: dict[int, Meter] = {}
    current = None
    for token in text.replace("\n", " ").split():
        if token.startswith("meter="):
            current = int(token.split("=", 1)[1])
            out[current] = (0, 0)
        elif current is not None and token.startswith("rate="):
            out[current] = (int(token.split("=", 1)[1]), out[current][1])
        elif current is not None and token.startswith("burst_size="):
            out[current] = (out[current][0], int(token.split("=", 1)[1]))
    return out


@dataclass(frozen=True, order=True)
class Flow:
    table: int
    priority: int
    match: str
    actions: str
    cookie: int = COOKIE

    def key(self) -> FlowKey:
        """What identifies the flow in the switch (a strict delete or an overwriting add)."""
        return (self.table, self.priority, self.match)

    def spec(self) -> str:
        return f"table={self.table},priority={self.priority}" + (f",{self.match}" if self.match else "")

    def render(self) -> str:
        return f"cookie={self.cookie:#x},{self.spec()},actions={self.actions}"


def index(flows: Iterable[Flow], bridge: str = "") -> dict[FlowKey, Flow]:
    """Flows by key; two different flows on one key are a caller bug (PermanentError)."""
    out: dict[FlowKey, Flow] = {}
    for flow in flows:
        seen = out.setdefault(flow.key(), flow)
        if seen != flow:
            raise PermanentError("flows", bridge, f"two flows for one key: {seen.render()} / {flow.render()}")
    return out


def diff_lines(old: Iterable[Flow], new: Iterable[Flow]) -> list[str]:
    """Bundle lines turning table ``old`` into ``new``: deletes first, then adds (sorted)."""
    was, want = index(old), index(new)
    deletes = [f"delete_strict cookie={f.cookie:#x}/-1,{f.spec()}" for k, f in sorted(was.items()) if k not in want]
    adds = [f"add {f.render()}" for k, f in sorted(want.items()) if was.get(k) != f]
    return deletes + adds


def table_text(flows: Iterable[Flow]) -> str:
    return "".join(f.render() + "\n" for f in sorted(index(flows).values()))


class OpenFlow:
    """Flow tables of the bridges of one host's vswitchd, remembering what it last applied."""

    def __init__(self, host: HostContext, *, timeout: float = 10.0) -> None:
        self.host, self.timeout = host, timeout
        self.applied: dict[str, tuple[Flow, ...]] = {}
        self.meters: dict[str, dict[int, Meter]] = {}
        self.scoped: set[str] = set()
        """Bridges whose next replace removes only our cookie's flows."""

    def _ofctl(self, op: str, bridge: str, args: Sequence[str], stdin: str | None = None) -> str:
        argv = ["ovs-ofctl", f"--timeout={max(1, round(self.timeout))}", *args]
        try:
            return programs.run(argv, env=self.host.ovs_env, input=stdin, timeout=self.timeout + 5).stdout
        except CommandFailed as exc:
            detail = exc.stderr.strip() or str(exc)
            down = not daemons.alive(daemons.read_pid(self.host.rundir / "ovs-vswitchd.pid"), "ovs-vswitchd")
            # refused or reset: vswitchd is (re)starting, its socket there but not yet serving
            if down or "Connection refused" in detail or "Connection reset" in detail or exc.returncode == -14:
                raise TemporaryError(op, bridge, detail) from exc
            raise PermanentError(op, bridge, detail) from exc

    def replace(self, bridge: str, flows: Iterable[Flow]) -> None:
        """Atomically make ``flows`` the whole flow table of ``bridge``."""
        desired = tuple(flows)
        text = table_text(desired)
        self.applied.pop(bridge, None)  # unknown state until it succeeded
        if bridge in self.scoped:
            lines = f"delete cookie={COOKIE:#x}/-1\n" + "".join(f"add {line}\n" for line in text.splitlines())
            self._ofctl("replace our flows", bridge, ["--bundle", "add-flows", bridge, "-"], lines)
            self.scoped.discard(bridge)
        else:
            self._ofctl("replace flows", bridge, ["--bundle", "replace-flows", bridge, "-"], text)
        self.applied[bridge] = desired

    def apply(self, bridge: str, flows: Iterable[Flow]) -> list[str]:
        """Converge ``bridge`` to ``flows``; returns the lines sent (the whole table after a replace,
        ``add``/``delete_strict`` lines otherwise; empty when nothing differed and nothing ran)."""
        desired = tuple(flows)
        if bridge not in self.applied:
            self.replace(bridge, desired)
            return table_text(desired).splitlines()
        lines = diff_lines(self.applied[bridge], desired)
        if lines:
            self.applied.pop(bridge)
            self._ofctl("apply flows", bridge, ["--bundle", "add-flows", bridge, "-"], "\n".join(lines) + "\n")
            self.applied[bridge] = desired
        return lines

    def forget(self, bridge: str | None = None, *, keep_foreign: bool = False) -> None:
        """Drop the record (of one bridge, or all) so the next ``apply`` replaces the whole table
        (only our cookie's flows of it with ``keep_foreign``)."""
        if bridge is None:
            if keep_foreign:
                self.scoped |= set(self.applied)
            self.applied.clear()
            self.meters.clear()
        else:
            if keep_foreign:
                self.scoped.add(bridge)
            self.applied.pop(bridge, None)
            self.meters.pop(bridge, None)

    def _known_meters(self, bridge: str) -> dict[int, Meter]:
        if bridge not in self.meters:
            out = self._ofctl("dump meters", bridge, ["-O", "OpenFlow13", "dump-meters", bridge])
            self.meters[bridge] = parse_meters(out)
        return self.meters[bridge]

    def set_meters(self, bridge: str, meters: dict[int, Meter]) -> int:
        """Add or change ``meters`` (before the flows that use them); others stay (``prune_meters``
        removes them once no flow needs them: deleting a meter deletes the flows using it)."""
        known, done = self._known_meters(bridge), 0
        for meter_id, meter in sorted(meters.items()):
            if known.get(meter_id) != meter:
                verb = "mod-meter" if meter_id in known else "add-meter"
                known.pop(meter_id, None)
                self._ofctl(verb, bridge, ["-O", "OpenFlow13", verb, bridge, meter_spec(meter_id, meter)])
                known[meter_id] = meter
                done += 1
        return done

    def prune_meters(self, bridge: str, keep: Iterable[int]) -> int:
        known, wanted = self._known_meters(bridge), set(keep)
        stale = sorted(m for m in known if m not in wanted)
        for meter_id in stale:
            self._ofctl("del-meter", bridge, ["-O", "OpenFlow13", "del-meter", bridge, f"meter={meter_id}"])
            known.pop(meter_id)
        return len(stale)

    def dump(self, bridge: str) -> list[str]:
        """Every flow of ``bridge``, ports by name (as the flows we render name them; ovs-ofctl
        prints numbers when its output is not a terminal)."""
        out = self._ofctl("dump flows", bridge, ["dump-flows", "--no-stats", "--names", bridge])
        return [line.strip() for line in out.splitlines() if line.strip() and not line.startswith(("NXST", "OFPST"))]

    def cookie_flows(self, bridge: str) -> int:
        """How many flows of ``bridge`` carry COOKIE (0 after a vswitchd restart: resync needed)."""
        out = self._ofctl("dump flows", bridge, ["dump-flows", "--no-stats", bridge, f"cookie={COOKIE:#x}/-1"])
        return sum(1 for line in out.splitlines() if "cookie=" in line)
