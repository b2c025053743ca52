"""OVSDB through ovs-vsctl: one process per change set, JSON for reads.

Every ovs-vsctl run costs a process and a wait for vswitchd (about 23 ms, docs/dataplane.md), so changes
are batched into one transaction (commands joined with ``--``), which OVSDB applies atomically.
Commands are plain data (``AddBridge``, ``AddPort``...) so a plan can be printed, compared in
tests and applied by the in-memory fake (``fake_ovs``) with the same meaning. Map values are
strings in OVSDB (step 7); a ``None`` value removes the key. With ``may_exist`` the settings are
still applied to an existing row, so a transaction can be replayed to converge. Writes wait for
vswitchd to apply them (ofports assigned, bridge .mgmt sockets ready) unless ``wait=False``; a
timeout (vswitchd down) is a TemporaryError, though the change may already be committed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import EllipsisType
from typing import Any

from neutrino.dataplane import exec as programs
from neutrino.dataplane.errors import CommandFailed, PermanentError, TemporaryError
from neutrino.dataplane.host import HostContext

MapIn = Mapping[str, "str | int | None"]
_PLAIN = re.compile(r"[A-Za-z0-9_./-]+")


def _map(values: MapIn | None) -> dict[str, str | None]:
    return {str(k): (None if v is None else str(v)) for k, v in (values or {}).items()}


def atom(value: str) -> str:
    """A string as ovs-vsctl parses it: bare when plain, else a JSON-quoted string."""
    return value if _PLAIN.fullmatch(value) else json.dumps(value)


def _settings(table: str, record: str, scalars: Mapping[str, str], maps: Mapping[str, Mapping[str, str | None]]) -> list[list[str]]:
    """``set`` the scalars and map keys, ``remove`` the keys mapped to None."""
    sets = [f"{col}={val}" for col, val in scalars.items()]
    removes: list[list[str]] = []
    for col, mapping in maps.items():
        for key, val in mapping.items():
            if val is None:
                removes.append(["remove", table, record, col, atom(key)])
            else:
                sets.append(f"{col}:{atom(key)}={atom(val)}")
    return ([["set", table, record, *sets]] if sets else []) + removes


@dataclass(frozen=True)
class AddBridge:
    name: str
    datapath_type: str | None = None
    fail_mode: str | None = None
    protocols: tuple[str, ...] | None = None
    external_ids: dict[str, str | None] = field(default_factory=dict)
    other_config: dict[str, str | None] = field(default_factory=dict)
    may_exist: bool = True

    def vsctl(self) -> list[list[str]]:
        scalars = {"datapath_type": self.datapath_type, "fail_mode": self.fail_mode}
        scalars = {k: atom(v) for k, v in scalars.items() if v is not None}
        if self.protocols is not None:
            scalars["protocols"] = "[" + ",".join(self.protocols) + "]"
        maps = {"external_ids": self.external_ids, "other_config": self.other_config}
        head = ["--may-exist"] if self.may_exist else []
        return [[*head, "add-br", self.name], *_settings("Bridge", self.name, scalars, maps)]


@dataclass(frozen=True)
class DelBridge:
    name: str
    if_exists: bool = True

    def vsctl(self) -> list[list[str]]:
        return [[*(["--if-exists"] if self.if_exists else []), "del-br", self.name]]


@dataclass(frozen=True)
class AddPort:
    bridge: str
    name: str
    iface_type: str | None = None
    options: dict[str, str | None] = field(default_factory=dict)
    iface_external_ids: dict[str, str | None] = field(default_factory=dict)
    tag: int | None = None
    """None leaves the tag as it is (a new port has none)."""
    port_other_config: dict[str, str | None] = field(default_factory=dict)
    may_exist: bool = True

    def vsctl(self) -> list[list[str]]:
        head = ["--may-exist"] if self.may_exist else []
        iface = {"type": atom(self.iface_type)} if self.iface_type is not None else {}
        port = {"tag": str(self.tag)} if self.tag is not None else {}
        return [
            [*head, "add-port", self.bridge, self.name],
            *_settings("Port", self.name, port, {"other_config": self.port_other_config}),
            *_settings("Interface", self.name, iface, {"options": self.options, "external_ids": self.iface_external_ids}),
        ]


@dataclass(frozen=True)
class DelPort:
    name: str
    bridge: str | None = None
    if_exists: bool = True

    def vsctl(self) -> list[list[str]]:
        head = ["--if-exists"] if self.if_exists else []
        return [[*head, "del-port", *([self.bridge] if self.bridge else []), self.name]]


@dataclass(frozen=True)
class SetPort:
    name: str
    tag: int | None | EllipsisType = ...
    """``...`` leaves the tag alone, None clears it."""
    other_config: dict[str, str | None] = field(default_factory=dict)

    def vsctl(self) -> list[list[str]]:
        scalars = {"tag": str(self.tag)} if isinstance(self.tag, int) else {}
        cmds = _settings("Port", self.name, scalars, {"other_config": self.other_config})
        if self.tag is None:
            cmds.insert(0, ["clear", "Port", self.name, "tag"])
        return cmds


@dataclass(frozen=True)
class SetInterface:
    name: str
    external_ids: dict[str, str | None] = field(default_factory=dict)
    options: dict[str, str | None] = field(default_factory=dict)

    def vsctl(self) -> list[list[str]]:
        return _settings("Interface", self.name, {}, {"external_ids": self.external_ids, "options": self.options})


Command = AddBridge | DelBridge | AddPort | DelPort | SetPort | SetInterface


class Transaction:
    """Collects commands; commits them as one change set on a clean ``with`` exit (not on error)."""

    def __init__(self, commit: Callable[[Sequence[Command]], None], render: Callable[[Sequence[Command]], list[str]]) -> None:
        self.commands: list[Command] = []
        self._commit, self._render = commit, render
        self._sent = 0

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.commit()

    def commit(self) -> None:
        """Send the commands not committed yet (none: nothing runs)."""
        pending = self.commands[self._sent :]
        if pending:
            self._commit(pending)
        self._sent = len(self.commands)

    def argv(self) -> list[str]:
        return self._render(self.commands)

    def add(self, command: Command) -> Transaction:
        self.commands.append(command)
        return self

    def add_bridge(self, name: str, *, datapath_type: str | None = None, fail_mode: str | None = None,
                   protocols: str | Sequence[str] | None = None, external_ids: MapIn | None = None,
                   other_config: MapIn | None = None, may_exist: bool = True) -> Transaction:
        protos = tuple(protocols.split(",") if isinstance(protocols, str) else protocols) if protocols is not None else None
        return self.add(AddBridge(name, datapath_type, fail_mode, protos, _map(external_ids), _map(other_config), may_exist))

    def del_bridge(self, name: str, if_exists: bool = True) -> Transaction:
        return self.add(DelBridge(name, if_exists))

    def add_port(self, bridge: str, name: str, *, iface_type: str | None = None, options: MapIn | None = None,
                 iface_external_ids: MapIn | None = None, tag: int | None = None,
                 port_other_config: MapIn | None = None, may_exist: bool = True) -> Transaction:
        return self.add(AddPort(bridge, name, iface_type, _map(options), _map(iface_external_ids), tag,
                                _map(port_other_config), may_exist))

    def del_port(self, name: str, bridge: str | None = None, if_exists: bool = True) -> Transaction:
        return self.add(DelPort(name, bridge, if_exists))

    def set_port(self, name: str, *, tag: int | None | EllipsisType = ..., other_config: MapIn | None = None) -> Transaction:
        return self.add(SetPort(name, tag, _map(other_config)))

    def set_interface(self, name: str, *, external_ids: MapIn | None = None, options: MapIn | None = None) -> Transaction:
        return self.add(SetInterface(name, _map(external_ids), _map(options)))


@dataclass(frozen=True)
class PortInfo:
    name: str
    bridge: str | None
    tag: int | None
    port_other_config: dict[str, str]
    iface_type: str
    iface_options: dict[str, str]
    iface_external_ids: dict[str, str]
    ofport: int | None


@dataclass(frozen=True)
class BridgeInfo:
    name: str
    datapath_type: str
    fail_mode: str | None
    external_ids: dict[str, str]
    other_config: dict[str, str]
    protocols: tuple[str, ...]


def decode(value: Any) -> Any:
    """OVSDB JSON to Python: ["map",..] -> dict, ["set",..] -> list, ["uuid",u] -> u."""
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
        tag, body = value
        if tag == "map":
            return {decode(k): decode(v) for k, v in body}
        if tag == "set":
            return [decode(v) for v in body]
        if tag in ("uuid", "named-uuid"):
            return body
    return value


def as_set(value: Any) -> list[Any]:
    """A set column: OVSDB writes a one-element set as the bare element."""
    return value if isinstance(value, list) else [value]


def optional(value: Any) -> Any:
    items = as_set(value)
    return items[0] if items else None


def parse_tables(stdout: str) -> list[list[dict[str, Any]]]:
    """The output of ``ovs-vsctl --format=json`` list/find commands: one table per line."""
    tables = []
    for line in stdout.splitlines():
        if line.strip():
            doc = json.loads(line)
            tables.append([dict(zip(doc["headings"], map(decode, row), strict=True)) for row in doc["data"]])
    return tables


def join_ports(bridges: list[dict[str, Any]], ports: list[dict[str, Any]], ifaces: list[dict[str, Any]]) -> list[PortInfo]:
    owner = {uuid: b["name"] for b in bridges for uuid in as_set(b["ports"])}
    by_uuid = {i["_uuid"]: i for i in ifaces}
    out = []
    for p in ports:
        mine = sorted((by_uuid[u] for u in as_set(p["interfaces"]) if u in by_uuid), key=lambda i: i["name"] != p["name"])
        i = mine[0] if mine else {"type": "", "options": {}, "external_ids": {}, "ofport": []}
        out.append(PortInfo(p["name"], owner.get(p["_uuid"]), optional(p["tag"]), p["other_config"], i["type"],
                            i["options"], i["external_ids"], optional(i["ofport"])))
    return sorted(out, key=lambda info: info.name)


PORT_COLUMNS = "--columns=_uuid,name,tag,other_config,interfaces"
IFACE_COLUMNS = "--columns=_uuid,name,type,options,external_ids,ofport"
BRIDGE_COLUMNS = "--columns=name,datapath_type,fail_mode,external_ids,other_config,protocols"


class Ovsdb:
    """The OVSDB of one host, through ovs-vsctl (``--db`` explicit, ``--timeout`` always set)."""

    def __init__(self, host: HostContext, *, timeout: float = 10.0, wait: bool = True) -> None:
        self.host, self.timeout, self.wait = host, timeout, wait

    def transaction(self) -> Transaction:
        return Transaction(self._commit, self.argv)

    def _base(self, wait: bool) -> list[str]:
        base = ["ovs-vsctl", f"--db={self.host.ovsdb_remote}", f"--timeout={max(1, round(self.timeout))}"]
        return base if wait else [*base, "--no-wait"]

    def argv(self, commands: Sequence[Command]) -> list[str]:
        return self._base(self.wait) + [arg for c in commands for cmd in c.vsctl() for arg in ("--", *cmd)]

    def _run(self, argv: list[str], op: str, target: str) -> str:
        try:
            return programs.run(argv, env=self.host.ovs_env, timeout=self.timeout + 5).stdout
        except CommandFailed as exc:
            detail = exc.stderr.strip().removeprefix("ovs-vsctl: ") or str(exc)
            if exc.returncode == -14 or "Alarm clock" in detail or "database connection failed" in detail:
                raise TemporaryError(op, target, detail) from exc
            raise PermanentError(op, target, detail) from exc

    def _commit(self, commands: Sequence[Command]) -> None:
        self._run(self.argv(commands), "ovsdb transaction", ", ".join(type(c).__name__ + " " + c.name for c in commands))

    def _read(self, target: str, *commands: list[str]) -> list[list[dict[str, Any]]]:
        argv = [*self._base(False), "--format=json"] + [arg for cmd in commands for arg in ("--", *cmd)]
        return parse_tables(self._run(argv, "ovsdb read", target))

    def list_bridges(self) -> list[str]:
        (rows,) = self._read("bridges", ["--columns=name", "list", "Bridge"])
        return sorted(r["name"] for r in rows)

    def bridge_ports(self, bridge: str) -> list[str]:
        """The ports of ``bridge`` without its local port, as ``list-ports``; PermanentError if missing."""
        out = self._run([*self._base(False), "list-ports", bridge], "ovsdb read", bridge)
        return sorted(out.split())

    def bridge(self, name: str) -> BridgeInfo | None:
        (rows,) = self._read(name, [BRIDGE_COLUMNS, "find", "Bridge", f"name={atom(name)}"])
        if not rows:
            return None
        r = rows[0]
        return BridgeInfo(r["name"], r["datapath_type"], optional(r["fail_mode"]), r["external_ids"],
                          r["other_config"], tuple(sorted(as_set(r["protocols"]))))

    def _ports(self, target: str, port_cond: list[str], iface_cmd: list[str]) -> list[PortInfo]:
        tables = self._read(target, ["--columns=name,ports", "list", "Bridge"],
                            [PORT_COLUMNS, "find", "Port", *port_cond], [IFACE_COLUMNS, *iface_cmd])
        return join_ports(*tables)

    def port(self, name: str) -> PortInfo | None:
        found = self._ports(name, [f"name={atom(name)}"], ["find", "Interface", f"name={atom(name)}"])
        return found[0] if found else None

    def change_number(self) -> int | None:
        """None: each read is a program of its own, nothing tells when the database changed."""
        return None

    def find_ports(self, **other_config: str) -> list[PortInfo]:
        """Ports whose other_config holds all the given key=value pairs (all ports if none)."""
        cond = [f"other_config:{atom(k)}={atom(str(v))}" for k, v in other_config.items()]
        return self._ports("ports", cond, ["list", "Interface"])
