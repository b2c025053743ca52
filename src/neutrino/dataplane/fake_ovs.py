"""In-memory Open vSwitch: OVSDB, OpenFlow and the daemons, for unit tests without root.

The fakes share the command dataclasses, ``Transaction`` and flow diffing with the real adapters
and copy their observable behaviour, checked by ``tests/contract``: idempotency flags, atomic
transactions, typed errors worded like ovs-vsctl's, the bridge's own local port (type internal,
ofport 65534, not in ``bridge_ports``), flows lost when vswitchd dies (docs/dataplane.md), and a write that
commits but raises TemporaryError when vswitchd is down (the real ovs-vsctl times out waiting).
Known differences: ``dump`` returns ``Flow.render()`` text (not ovs-ofctl's normalized form),
flow syntax is not validated, and every port gets an ofport (a real system port without a
device gets -1).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import EllipsisType
from typing import Any

from neutrino.dataplane.errors import PermanentError, TemporaryError
from neutrino.dataplane.host import ROOT, HostContext
from neutrino.dataplane.openflow import COOKIE, Flow, FlowKey, diff_lines, index, table_text
from neutrino.dataplane.ovsdb import (AddBridge, AddPort, BridgeInfo, Command, DelBridge, DelPort, Ovsdb,
                                      PortInfo, SetInterface, SetPort, Transaction)

LOCAL_OFPORT = 65534


def _merge(target: dict[str, str], changes: Mapping[str, str | None]) -> None:
    for key, value in changes.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value


@dataclass
class _Bridge:
    info: BridgeInfo
    next_ofport: int = 1


@dataclass
class _Db:
    bridges: dict[str, _Bridge] = field(default_factory=dict)
    ports: dict[str, PortInfo] = field(default_factory=dict)


@dataclass
class FakeOvsState:
    """One fake OVS instance: share it between FakeOvsInstance, FakeOvsdb and FakeOpenFlow."""

    running: bool = True
    db: _Db = field(default_factory=_Db)
    flows: dict[str, dict[FlowKey, Flow]] = field(default_factory=dict)
    ovsdb_running: bool = field(init=False)
    vswitchd_running: bool = field(init=False)
    pids: dict[str, int | None] = field(default_factory=dict)
    generation: int = 0
    """Bumped by every committed OVSDB transaction (``FakeOvsdb.change_number``)."""

    def __post_init__(self) -> None:
        self.ovsdb_running = self.vswitchd_running = self.running


_PIDS = itertools.count(900000)


class FakeOvsInstance:
    def __init__(self, host: HostContext = ROOT, state: FakeOvsState | None = None) -> None:
        self.host, self.state = host, state or FakeOvsState()

    def start(self, timeout: float = 10.0) -> None:
        if not self.state.ovsdb_running:
            self.state.ovsdb_running = True
            self.state.pids["ovsdb-server"] = next(_PIDS)
        if not self.state.vswitchd_running:
            self.state.vswitchd_running = True
            self.state.pids["ovs-vswitchd"] = next(_PIDS)

    def kill_vswitchd(self) -> None:
        """Test helper, like ``kill -9``: bridges and ports stay in OVSDB, flows are gone (docs/dataplane.md)."""
        self.state.vswitchd_running = False
        self.state.flows.clear()

    def stop(self, timeout: float = 5.0) -> None:
        self.kill_vswitchd()
        self.state.ovsdb_running = False

    def pids(self) -> dict[str, int | None]:
        up = {"ovsdb-server": self.state.ovsdb_running, "ovs-vswitchd": self.state.vswitchd_running}
        return {name: (self.state.pids.setdefault(name, next(_PIDS)) if on else None) for name, on in up.items()}

    def running(self) -> bool:
        return self.state.ovsdb_running and self.state.vswitchd_running

    def sockets(self) -> dict[str, Path]:
        found = {"db": self.host.rundir / "db.sock"}
        found.update({f"{n}.ctl": self.host.rundir / f"{n}.{p}.ctl" for n, p in self.pids().items() if p})
        return found

    def appctl(self, *args: str, target: str = "ovs-vswitchd", timeout: float = 10.0) -> str:
        return ""


class FakeOvsdb:
    def __init__(self, host: HostContext = ROOT, state: FakeOvsState | None = None, *, wait: bool = True) -> None:
        self.host, self.state, self.wait = host, state or FakeOvsState(), wait
        self._render = Ovsdb(host, wait=wait)

    def transaction(self) -> Transaction:
        return Transaction(self._commit, self._render.argv)

    def _check(self, op: str, target: str) -> None:
        if not self.state.ovsdb_running:
            raise TemporaryError(op, target, "database connection failed (No such file or directory)")

    def _commit(self, commands: Sequence[Command]) -> None:
        self._check("ovsdb transaction", "")
        db = copy.deepcopy(self.state.db)
        for command in commands:
            _APPLY[type(command)](db, command)
        self.state.db = db
        self.state.generation += 1
        for gone in set(self.state.flows) - set(db.bridges):
            del self.state.flows[gone]
        if self.wait and not self.state.vswitchd_running:
            raise TemporaryError("ovsdb transaction", "", "terminating with signal 14 (Alarm clock)")

    def list_bridges(self) -> list[str]:
        self._check("ovsdb read", "bridges")
        return sorted(self.state.db.bridges)

    def bridge_ports(self, bridge: str) -> list[str]:
        self._check("ovsdb read", bridge)
        _bridge(self.state.db, bridge)
        return sorted(p.name for p in self.state.db.ports.values() if p.bridge == bridge and p.name != bridge)

    def bridge(self, name: str) -> BridgeInfo | None:
        self._check("ovsdb read", name)
        found = self.state.db.bridges.get(name)
        return copy.deepcopy(found.info) if found else None

    def port(self, name: str) -> PortInfo | None:
        self._check("ovsdb read", name)
        return copy.deepcopy(self.state.db.ports.get(name))

    def change_number(self) -> int | None:
        """As the IDL's ``change_seqno``: changes with every commit; None while the database is down."""
        return self.state.generation if self.state.ovsdb_running else None

    def find_ports(self, **other_config: str) -> list[PortInfo]:
        self._check("ovsdb read", "ports")
        want = {k: str(v) for k, v in other_config.items()}
        ports = (p for p in self.state.db.ports.values() if want.items() <= p.port_other_config.items())
        return copy.deepcopy(sorted(ports, key=lambda p: p.name))


def _fail(name: str, detail: str) -> PermanentError:
    return PermanentError("ovsdb transaction", name, detail)


def _bridge(db: _Db, name: str) -> _Bridge:
    if name not in db.bridges:
        raise _fail(name, f"no bridge named {name}")
    return db.bridges[name]


def _row(db: _Db, name: str, table: str) -> PortInfo:
    if name not in db.ports:
        raise _fail(name, f'no row "{name}" in table {table}')
    return db.ports[name]


def _tag(tag: int | None, name: str) -> None:
    if tag is not None and not 0 <= tag <= 4095:
        raise _fail(name, f"constraint violation: {tag} is not in the valid range 0 to 4095 (inclusive)")


def _add_bridge(db: _Db, c: AddBridge) -> None:
    owner = db.ports[c.name].bridge if c.name in db.ports else c.name
    if owner != c.name:
        raise _fail(c.name, f"cannot create a bridge named {c.name} because a port named {c.name} already exists on bridge {owner}")
    if c.name in db.bridges and not c.may_exist:
        raise _fail(c.name, f"cannot create a bridge named {c.name} because a bridge named {c.name} already exists")
    if c.name not in db.bridges:
        db.bridges[c.name] = _Bridge(BridgeInfo(c.name, "", None, {}, {}, ()))
        db.ports[c.name] = PortInfo(c.name, c.name, None, {}, "internal", {}, {}, LOCAL_OFPORT)
    b = db.bridges[c.name]
    _merge(b.info.external_ids, c.external_ids)
    _merge(b.info.other_config, c.other_config)
    changes: dict[str, object] = {"datapath_type": c.datapath_type, "fail_mode": c.fail_mode}
    if c.protocols is not None:
        changes["protocols"] = tuple(sorted(set(c.protocols)))
    b.info = replace(b.info, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]


def _del_bridge(db: _Db, c: DelBridge) -> None:
    if c.name not in db.bridges and c.if_exists:
        return
    _bridge(db, c.name)
    del db.bridges[c.name]
    for name in [p.name for p in db.ports.values() if p.bridge == c.name]:
        del db.ports[name]


def _add_port(db: _Db, c: AddPort) -> None:
    b = _bridge(db, c.bridge)
    port = db.ports.get(c.name)
    if port is not None and (not c.may_exist or port.bridge != c.bridge):
        raise _fail(c.name, f"cannot create a port named {c.name} because a port named {c.name} already exists on bridge {port.bridge}")
    _tag(c.tag, c.name)
    if port is None:
        port = PortInfo(c.name, c.bridge, None, {}, "", {}, {}, b.next_ofport)
        b.next_ofport += 1
    _merge(port.port_other_config, c.port_other_config)
    _merge(port.iface_options, c.options)
    _merge(port.iface_external_ids, c.iface_external_ids)
    tag = port.tag if c.tag is None else c.tag
    db.ports[c.name] = replace(port, tag=tag, iface_type=port.iface_type if c.iface_type is None else c.iface_type)


def _del_port(db: _Db, c: DelPort) -> None:
    if c.bridge is not None:
        _bridge(db, c.bridge)
    port = db.ports.get(c.name)
    if port is None:
        if c.if_exists:
            return
        raise _fail(c.name, f"no port named {c.name}")
    if c.bridge is not None and port.bridge != c.bridge:
        raise _fail(c.name, f"bridge {c.bridge} does not have a port {c.name}")
    if port.name in db.bridges:
        raise _fail(c.name, f"cannot delete port {c.name} because it is the local port for bridge {c.name}")
    del db.ports[c.name]


def _set_port(db: _Db, c: SetPort) -> None:
    port = _row(db, c.name, "Port")
    _merge(port.port_other_config, c.other_config)
    if not isinstance(c.tag, EllipsisType):
        _tag(c.tag, c.name)
        db.ports[c.name] = replace(port, tag=c.tag)


def _set_interface(db: _Db, c: SetInterface) -> None:
    port = _row(db, c.name, "Interface")
    _merge(port.iface_external_ids, c.external_ids)
    _merge(port.iface_options, c.options)


_APPLY: dict[type, Callable[[_Db, Any], None]] = {
    AddBridge: _add_bridge,
    DelBridge: _del_bridge,
    AddPort: _add_port,
    DelPort: _del_port,
    SetPort: _set_port,
    SetInterface: _set_interface,
}


class FakeOpenFlow:
    def __init__(self, host: HostContext = ROOT, state: FakeOvsState | None = None) -> None:
        self.host, self.state = host, state or FakeOvsState()
        self.applied: dict[str, tuple[Flow, ...]] = {}
        self.sent: list[tuple[str, list[str]]] = []
        """(bridge, lines) of every bundle that would have run, for assertions."""
        self.meters: dict[str, dict[int, tuple[int, int]]] = {}
        self.scoped: set[str] = set()

    def set_meters(self, bridge: str, meters: dict[int, tuple[int, int]]) -> int:
        self._table("set meters", bridge)
        known = self.meters.setdefault(bridge, {})
        changed = {k: v for k, v in meters.items() if known.get(k) != v}
        known.update(changed)
        return len(changed)

    def prune_meters(self, bridge: str, keep: Iterable[int]) -> int:
        known, wanted = self.meters.setdefault(bridge, {}), set(keep)
        stale = [m for m in known if m not in wanted]
        for meter_id in stale:
            del known[meter_id]
            for key in [k for k, f in self.state.flows.get(bridge, {}).items() if f"meter:{meter_id}," in f.actions + ","]:
                del self.state.flows[bridge][key]  # as OpenFlow does: a meter's flows go with it
        return len(stale)

    def _table(self, op: str, bridge: str) -> dict[FlowKey, Flow]:
        if not self.state.vswitchd_running:
            raise TemporaryError(op, bridge, "failed to open socket (Connection refused)")
        if bridge not in self.state.db.bridges:
            raise PermanentError(op, bridge, f"ovs-ofctl: {bridge} is not a bridge or a socket")
        return self.state.flows.setdefault(bridge, {})

    def replace(self, bridge: str, flows: Iterable[Flow]) -> None:
        desired = tuple(flows)
        self.applied.pop(bridge, None)
        table = self._table("replace flows", bridge)
        foreign = {k: f for k, f in table.items() if f.cookie != COOKIE} if bridge in self.scoped else {}
        self.scoped.discard(bridge)
        self.state.flows[bridge] = {**foreign, **index(desired, bridge)}
        self.sent.append((bridge, table_text(desired).splitlines()))
        self.applied[bridge] = desired

    def apply(self, bridge: str, flows: Iterable[Flow]) -> list[str]:
        desired = tuple(flows)
        if bridge not in self.applied:
            self.replace(bridge, desired)
            return table_text(desired).splitlines()
        old, lines = index(self.applied[bridge], bridge), diff_lines(self.applied[bridge], desired)
        if lines:
            want = index(desired, bridge)
            self.applied.pop(bridge)
            table = self._table("apply flows", bridge)
            for key, flow in old.items():  # delete_strict cookie=<old>/-1
                if key not in want and key in table and table[key].cookie == flow.cookie:
                    del table[key]
            table.update({k: f for k, f in want.items() if old.get(k) != f})  # add overwrites
            self.sent.append((bridge, lines))
            self.applied[bridge] = desired
        return lines

    def forget(self, bridge: str | None = None, *, keep_foreign: bool = False) -> None:
        if bridge is None:
            if keep_foreign:
                self.scoped |= set(self.applied)
            self.applied.clear()
        else:
            if keep_foreign:
                self.scoped.add(bridge)
            self.applied.pop(bridge, None)

    def dump(self, bridge: str) -> list[str]:
        return [f.render() for f in sorted(self._table("dump flows", bridge).values())]

    def cookie_flows(self, bridge: str) -> int:
        return sum(1 for f in self._table("dump flows", bridge).values() if f.cookie == COOKIE)
