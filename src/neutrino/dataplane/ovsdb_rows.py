"""The plan's OVSDB commands applied to the rows of an OVSDB IDL, and those rows read back.

The IDL adapter (``ovsdb_idl``) runs ``apply`` inside one ovsdbapp transaction, in its connection
thread; the commands are the same data the ovs-vsctl adapter renders (``ovsdb.AddBridge``...), and
their meaning is ovs-vsctl's, which ``tests/contract/test_ovs_contract.py`` checks for every
adapter: ``may_exist`` still applies the settings, a None map value removes the key, a port that
exists on another bridge is an error even with ``may_exist``, ``if_exists`` tolerates only a
missing row. Whole-column writes of existing rows are guarded by ``verify`` (as ovs-vsctl does), so
a concurrent writer makes the server answer "try again" and ovsdbapp reruns the transaction on
fresh rows instead of losing either change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ovs.db import data
from ovs.db import error as ovs_error
from ovs.db import idl as ovs_idl

from neutrino.dataplane.errors import PermanentError
from neutrino.dataplane.ovsdb import (AddBridge, AddPort, BridgeInfo, Command, DelBridge, DelPort, PortInfo, SetInterface,
                                      SetPort)  # fmt: skip

OP = "ovsdb transaction"
COLUMNS = {
    "Open_vSwitch": ["bridges", "next_cfg", "cur_cfg"],
    "Bridge": ["name", "ports", "datapath_type", "fail_mode", "protocols", "external_ids", "other_config"],
    "Port": ["name", "interfaces", "tag", "other_config"],
    "Interface": ["name", "type", "options", "external_ids", "ofport"],
}
"""The columns this adapter reads or writes; registering only these keeps vswitchd's statistics
updates (every few seconds per interface) off the connection. A vswitchd restart changes none of
them (with the userspace datapath its taps survive, ifindex included), so the agent learns of it
from an OpenFlow connection that drops with vswitchd (``dataplane/vswitchd_watch.py``)."""


def _optional(value: Any) -> Any:
    """An optional column reads as a list of zero or one element."""
    return value[0] if value else None


class RowEditor:
    """One transaction's view of the rows by name (the rows it inserts included); ``idl.view``
    gives a replicated row's plain values (``plain``)."""

    def __init__(self, idl: Any, txn: Any) -> None:
        self.idl, self.txn = idl, txn
        tables, view = idl.tables, idl.view  # names and ownership from the replica's cached views
        self.root = _optional(list(tables["Open_vSwitch"].rows.values()))
        self.bridges = {view(r)["name"]: r for r in tables["Bridge"].rows.values()}
        self.ports = {view(r)["name"]: r for r in tables["Port"].rows.values()}
        self.ifaces = {view(r)["name"]: r for r in tables["Interface"].rows.values()}
        self.owner = {u: name for name, b in self.bridges.items() for u in view(b)["ports"]}
        self.new: set[Any] = set()

    def apply(self, commands: Iterable[Command]) -> None:
        for command in commands:
            match command:
                case AddBridge():
                    self.add_bridge(command)
                case DelBridge():
                    self.del_bridge(command)
                case AddPort():
                    self.add_port(command)
                case DelPort():
                    self.del_port(command)
                case SetPort():
                    self.set_port(command)
                case SetInterface():
                    self.set_interface(command)

    # --- writes ------------------------------------------------------------------------------

    def _write(self, row: Any, column: str, value: Any, target: str) -> None:
        """Set one column, checked against the schema first (the IDL would log and drop a bad value)."""
        try:
            data.Datum.from_python(row._table.columns[column].type, value, ovs_idl._row_to_uuid)
        except ovs_error.Error as exc:
            raise PermanentError(OP, target, f"{column}: {exc}") from exc
        if row.uuid not in self.new:
            row.verify(column)
        setattr(row, column, value)

    def _merge(self, row: Any, column: str, changes: Mapping[str, str | None], target: str) -> None:
        if not changes:
            return
        merged = {} if row.uuid in self.new else dict(getattr(row, column))
        for key, value in changes.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        self._write(row, column, merged, target)

    def _insert(self, table: str, **columns: Any) -> Any:
        row = self.txn.insert(self.idl.tables[table])
        self.new.add(row.uuid)
        for column, value in columns.items():
            setattr(row, column, value)
        return row

    def _new_port(self, bridge: Any, name: str, iface_type: str = "") -> Any:
        iface = self._insert("Interface", name=name, type=iface_type)
        port = self._insert("Port", name=name, interfaces=[iface])
        self.ports[name], self.ifaces[name], self.owner[port.uuid] = port, iface, bridge.name
        self._write(bridge, "ports", [*bridge.ports, port], bridge.name)
        return port

    def _drop_port(self, port: Any) -> None:
        bridge = self.bridges[self.owner.pop(port.uuid)]
        self._write(bridge, "ports", [p for p in bridge.ports if p.uuid != port.uuid], bridge.name)
        for iface in port.interfaces:
            self.ifaces.pop(iface.name, None)
            iface.delete()
        del self.ports[port.name]
        port.delete()

    def add_bridge(self, c: AddBridge) -> None:
        bridge = self.bridges.get(c.name)
        if bridge is not None and not c.may_exist:
            raise PermanentError(OP, c.name, f"cannot create a bridge named {c.name} because a bridge named {c.name} already exists")
        if bridge is None:
            if self.root is None:
                raise PermanentError(OP, c.name, "the database has no Open_vSwitch row")
            bridge = self.bridges[c.name] = self._insert("Bridge", name=c.name, ports=[])
            self._new_port(bridge, c.name, "internal")
            self._write(self.root, "bridges", [*self.root.bridges, bridge], c.name)
        if c.datapath_type is not None:
            self._write(bridge, "datapath_type", c.datapath_type, c.name)
        if c.fail_mode is not None:
            self._write(bridge, "fail_mode", [c.fail_mode], c.name)
        if c.protocols is not None:
            self._write(bridge, "protocols", list(c.protocols), c.name)
        self._merge(bridge, "external_ids", c.external_ids, c.name)
        self._merge(bridge, "other_config", c.other_config, c.name)

    def del_bridge(self, c: DelBridge) -> None:
        bridge = self.bridges.get(c.name)
        if bridge is None:
            if c.if_exists:
                return
            raise PermanentError(OP, c.name, f"no bridge named {c.name}")
        for port in list(bridge.ports):
            self._drop_port(port)
        assert self.root is not None
        self._write(self.root, "bridges", [b for b in self.root.bridges if b.uuid != bridge.uuid], c.name)
        del self.bridges[c.name]
        bridge.delete()

    def add_port(self, c: AddPort) -> None:
        bridge = self.bridges.get(c.bridge)
        if bridge is None:
            raise PermanentError(OP, c.name, f"no bridge named {c.bridge}")
        port = self.ports.get(c.name)
        if port is None:
            port = self._new_port(bridge, c.name)
        elif not c.may_exist:
            raise PermanentError(OP, c.name, f"cannot create a port named {c.name} because a port named {c.name} "
                                             f"already exists on bridge {self.owner.get(port.uuid)}")  # fmt: skip
        elif self.owner.get(port.uuid) != c.bridge:
            raise PermanentError(OP, c.name, f"\"--may-exist add-port {c.bridge} {c.name}\" but {c.name} is actually "
                                             f"attached to bridge {self.owner.get(port.uuid)}")  # fmt: skip
        if c.tag is not None:
            self._write(port, "tag", [c.tag], c.name)
        self._merge(port, "other_config", c.port_other_config, c.name)
        iface = self.ifaces[c.name]
        if c.iface_type is not None:
            self._write(iface, "type", c.iface_type, c.name)
        self._merge(iface, "options", c.options, c.name)
        self._merge(iface, "external_ids", c.iface_external_ids, c.name)

    def del_port(self, c: DelPort) -> None:
        if c.bridge is not None and c.bridge not in self.bridges:
            raise PermanentError(OP, c.name, f"no bridge named {c.bridge}")
        port = self.ports.get(c.name)
        if port is None:
            if c.if_exists:
                return
            raise PermanentError(OP, c.name, f"no port named {c.name}")
        if c.bridge is not None and self.owner.get(port.uuid) != c.bridge:
            raise PermanentError(OP, c.name, f"bridge {c.bridge} does not have a port {c.name}")
        self._drop_port(port)

    def set_port(self, c: SetPort) -> None:
        port = self.ports.get(c.name)
        if port is None:
            raise PermanentError(OP, c.name, f'no row "{c.name}" in table Port')
        if c.tag is None:
            self._write(port, "tag", [], c.name)
        elif isinstance(c.tag, int):
            self._write(port, "tag", [c.tag], c.name)
        self._merge(port, "other_config", c.other_config, c.name)

    def set_interface(self, c: SetInterface) -> None:
        iface = self.ifaces.get(c.name)
        if iface is None:
            raise PermanentError(OP, c.name, f'no row "{c.name}" in table Interface')
        self._merge(iface, "external_ids", c.external_ids, c.name)
        self._merge(iface, "options", c.options, c.name)


# --- reads (the caller holds the connection's lock) --------------------------------------------

REFERENCES = {"bridges", "ports", "interfaces"}


def plain(row: Any) -> dict[str, Any]:
    """A replicated row's columns as plain Python values, references as lists of uuids."""
    out = {}
    for column in COLUMNS[row._table.name]:
        value = getattr(row, column)
        out[column] = [r.uuid for r in value] if column in REFERENCES else value
    return out


def bridge_info(row: Mapping[str, Any]) -> BridgeInfo:
    return BridgeInfo(row["name"], row["datapath_type"], _optional(row["fail_mode"]), dict(row["external_ids"]),
                      dict(row["other_config"]), tuple(sorted(row["protocols"])))  # fmt: skip


def port_infos(idl: Any, other_config: Mapping[str, str], name: str | None = None) -> list[PortInfo]:
    """The ports (named ``name``, or whose other_config holds all the given pairs) with their interface;
    ``idl.view`` gives a row's plain values."""
    view = idl.view
    wanted = {k: str(v) for k, v in other_config.items()}
    owner: dict[Any, str] = {}
    for bridge in idl.tables["Bridge"].rows.values():
        b = view(bridge)
        owner.update(dict.fromkeys(b["ports"], b["name"]))
    iface_rows = idl.tables["Interface"].rows
    out = []
    for port_row in idl.tables["Port"].rows.values():
        port = view(port_row)
        if name is not None and port["name"] != name:
            continue
        config = port["other_config"]
        if any(config.get(k) != v for k, v in wanted.items()):
            continue
        ifaces = sorted((view(iface_rows[u]) for u in port["interfaces"] if u in iface_rows), key=lambda i: i["name"] != port["name"])
        iface = ifaces[0] if ifaces else {"type": "", "options": {}, "external_ids": {}, "ofport": []}
        out.append(PortInfo(port["name"], owner.get(port_row.uuid), _optional(port["tag"]), dict(config), iface["type"],
                            dict(iface["options"]), dict(iface["external_ids"]), _optional(iface["ofport"])))  # fmt: skip
    return sorted(out, key=lambda info: info.name)
