"""OVSDB through one persistent connection per host (ovsdbapp's IDL): reads, monitor, transactions.

The ovs-vsctl adapter (``ovsdb.Ovsdb``) starts a process per change set and per read, 20-100 ms
each; this one keeps the host's database replicated in memory over the host's ovsdb-server socket
(``HostContext.ovsdb_remote``), so a read is a walk over local rows and a change set is one
OVSDB transaction on an open connection. Facts it relies on (docs/dataplane.md, "OVSDB through a
persistent IDL connection"):

* Only the columns in ``ovsdb_rows.COLUMNS`` are replicated, so vswitchd's statistics updates
  never reach the agent. The schema is the installed one (``ovs.SCHEMA``): no round trip before
  connecting.
* A write waits, as ``ovs-vsctl`` does without ``--no-wait``, for vswitchd to apply it: the
  transaction increments ``next_cfg`` and the caller waits until vswitchd's ``cur_cfg`` reaches
  it, by when ofports are assigned and bridges' management sockets exist. A timeout (vswitchd
  down) is a TemporaryError, though the change is committed.
* Reads and writes need the connection; while it is down (ovsdb-server restarting) they raise
  TemporaryError. The IDL reconnects by itself (backoff capped at ``MAX_BACKOFF_MS``) and
  reloads the database; that reconnection wakes the monitor's listeners, who resync.
* The monitor (a VIF plugged or unplugged) is the same connection: any change of an Interface
  row's replicated columns calls the listeners, from the connection thread (they must not block).

ovsdbapp's ``Backend`` keeps one connection per class, which cannot serve several emulated hosts
in one process, so this adapter drives ovsdbapp's ``Connection`` and ``Transaction`` directly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ovs.db import idl as ovs_idl
from ovsdbapp import exceptions as ovsdbapp_errors
from ovsdbapp.backend.ovs_idl import command as ovsdbapp_command
from ovsdbapp.backend.ovs_idl import connection as ovsdbapp_connection
from ovsdbapp.backend.ovs_idl import transaction as ovsdbapp_transaction

from neutrino.dataplane import ovs_json, ovsdb_rows
from neutrino.dataplane.errors import PermanentError, TemporaryError
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.ovs import SCHEMA
from neutrino.dataplane.ovsdb import BridgeInfo, Command, PortInfo, Transaction

LOG = logging.getLogger(__name__)
MAX_BACKOFF_MS = 1000
"""The IDL's reconnection backoff grows to this (OVS's default is 8 s): a restarted ovsdb-server
is found again within a second."""


class _Idl(ovsdbapp_connection.OvsdbIdl):
    """The IDL with two hooks: Interface row changes and reconnections call the listeners, and
    every ``run`` wakes the threads waiting for vswitchd (``changed``)."""

    def __init__(self, remote: str, helper: Any) -> None:
        super().__init__(remote, helper)
        self.listeners: list[Callable[[], None]] = []
        self.views: dict[Any, dict[str, Any]] = {}
        self.changed: threading.Condition | None = None
        self.quiet = True
        """While the connection first loads: whoever opened it reads next, and sees every row, so
        the load's rows and the first "connected" wake no listener (an agent just started would
        run its first pass twice)."""
        self._was_monitoring = False
        self._session.reconnect.set_backoff(100, MAX_BACKOFF_MS)

    def cooperative_yield(self) -> None:
        """ovsdbapp sleeps(0) per row received, for green threads; with OS threads the interpreter
        switches anyway, and on a loaded machine each sleep costs a scheduler round (0.3 s per
        thousand rows at the first load)."""

    def _tell(self) -> None:
        if self.quiet:
            return
        for listener in list(self.listeners):
            try:
                listener()
            except Exception:  # noqa: BLE001 - a listener's bug must not stop replication
                LOG.exception("ovsdb listener failed")

    def notify(self, event: Any, row: Any, updates: Any = None) -> None:
        self.views.pop(row.uuid, None)
        if row._table.name == "Interface":
            self._tell()

    def view(self, row: Any) -> dict[str, Any]:
        """The row's columns as plain values (references as uuids), converted once per change:
        the IDL converts a column on every attribute read, 300 ms for a thousand ports' reads."""
        found = self.views.get(row.uuid)
        if found is None:
            found = self.views[row.uuid] = ovsdb_rows.plain(row)
        return found

    def run(self) -> Any:
        result = super().run()
        monitoring = self.connected()
        if not monitoring:
            self.views.clear()  # a reconnection may reload rows without a notice for each
        if monitoring and not self._was_monitoring and self.has_ever_connected():
            self._tell()  # (re)connected: whatever happened meanwhile, look again
        self._was_monitoring = monitoring
        if self.changed is not None:
            try:
                self.changed.notify_all()
            except RuntimeError:  # run() outside the connection's lock: the next run wakes them
                pass
        return result

    def connected(self) -> bool:
        return bool(self.state == self.IDL_S_MONITORING and self._session.is_connected())


class _Apply(ovsdbapp_command.BaseCommand):
    """The whole change set as one ovsdbapp command (``ovsdb_rows.RowEditor`` does the work)."""

    def __init__(self, api: Any, commands: Sequence[Command]) -> None:
        super().__init__(api)
        self.commands = list(commands)

    def run_idl(self, txn: Any) -> None:
        ovsdb_rows.RowEditor(self.api.idl, txn).apply(self.commands)


class _Transaction(ovsdbapp_transaction.Transaction):
    """ovsdbapp's transaction, which also increments ``next_cfg`` when the caller waits for vswitchd."""

    def __init__(self, api: Any, wait: bool, timeout: float) -> None:
        super().__init__(api, api.ovsdb_connection, timeout=timeout, check_error=True, log_errors=False)
        self.wait = wait
        self.next_cfg: int | None = None

    def pre_commit(self, txn: Any) -> None:
        roots = list(self.api.idl.tables["Open_vSwitch"].rows.values())
        if self.wait and roots:
            roots[0].increment("next_cfg")

    def post_commit(self, txn: Any) -> None:
        super().post_commit(txn)
        if self.wait:
            self.next_cfg = txn.get_increment_new_value()


class IdlOvsdb:
    """The OVSDB of one host through a persistent IDL connection; the same protocol as ``Ovsdb``."""

    def __init__(self, host: HostContext, *, timeout: float = 10.0, wait: bool = True) -> None:
        self.host, self.timeout, self.wait = host, timeout, wait
        self._lock = threading.Lock()
        self._connection: Any = None
        self._closed = False
        self._listeners: list[Callable[[], None]] = []

    # --- the connection ------------------------------------------------------------------------

    @property
    def idl(self) -> Any:
        return self.ovsdb_connection.idl

    @property
    def ovsdb_connection(self) -> Any:
        """ovsdbapp's Connection, opened on first use (ovsdbapp's ``api`` protocol)."""
        with self._lock:
            if self._closed:
                raise PermanentError("ovsdb", self.host.name, "the OVSDB connection was closed")
            if self._connection is None:
                ovs_json.install()  # the PyPI wheel's parser is pure Python: 1.5 s for a thousand ports
                helper = ovs_idl.SchemaHelper(location=str(SCHEMA))
                for table, columns in ovsdb_rows.COLUMNS.items():
                    helper.register_columns(table, columns)
                idl = _Idl(self.host.ovsdb_remote, helper)
                idl.listeners = self._listeners
                connection = ovsdbapp_connection.Connection(idl, self.timeout)
                idl.changed = threading.Condition(connection.lock)
                try:
                    connection.start()
                except Exception as exc:  # noqa: BLE001 - ovsdbapp raises its own or the IDL's
                    idl.close()
                    raise TemporaryError("ovsdb connect", self.host.ovsdb_remote, str(exc) or type(exc).__name__) from exc
                idl.quiet = False  # loaded: changes from now on, and reconnections, wake the listeners
                self._connection = connection
            return self._connection

    def close(self) -> None:
        """Stop the connection thread; the adapter cannot be used afterwards."""
        with self._lock:
            self._closed = True
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.stop(timeout=5)

    def monitor(self, on_change: Callable[[], None]) -> OvsdbIdlMonitor:
        """Wake-ups on VIF changes and on reconnections, from this connection."""
        return OvsdbIdlMonitor(self, on_change)

    # --- writes ------------------------------------------------------------------------------

    def transaction(self) -> Transaction:
        return Transaction(self._commit, self._describe)

    def _describe(self, commands: Sequence[Command]) -> list[str]:
        return [repr(c) for c in commands]

    def _commit(self, commands: Sequence[Command]) -> None:
        target = ", ".join(type(c).__name__ + " " + c.name for c in commands)
        connection = self.ovsdb_connection
        txn = _Transaction(self, self.wait, self.timeout)
        txn.add(_Apply(self, commands))
        started = time.monotonic()
        try:
            txn.commit()
        except (PermanentError, TemporaryError):
            raise
        except ovsdbapp_errors.TimeoutException as exc:
            raise TemporaryError("ovsdb transaction", target, f"no answer from ovsdb-server in {self.timeout} s") from exc
        except RuntimeError as exc:  # ovsdbapp's "OVSDB Error: <the server's reason>" or its own timeout
            if str(exc).startswith("OVSDB Error"):
                raise PermanentError("ovsdb transaction", target, str(exc)) from exc
            raise TemporaryError("ovsdb transaction", target, str(exc)) from exc
        if txn.next_cfg is not None:
            self._wait_for_vswitchd(connection, txn.next_cfg, started + self.timeout, target)

    def _wait_for_vswitchd(self, connection: Any, next_cfg: int, deadline: float, target: str) -> None:
        idl = connection.idl
        with idl.changed:
            while True:
                roots = list(idl.tables["Open_vSwitch"].rows.values())
                if roots and roots[0].cur_cfg >= next_cfg:
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TemporaryError("ovsdb transaction", target,
                                         f"committed, but ovs-vswitchd did not apply it in {self.timeout} s")  # fmt: skip
                idl.changed.wait(remaining)

    # --- reads -------------------------------------------------------------------------------

    def _read(self, target: str, read: Callable[[Any], Any]) -> Any:
        connection = self.ovsdb_connection
        with connection.lock:
            if not connection.idl.connected():
                raise TemporaryError("ovsdb read", target, f"not connected to {self.host.ovsdb_remote}")
            return read(connection.idl)

    def list_bridges(self) -> list[str]:
        return self._read("bridges", lambda idl: sorted(idl.view(b)["name"] for b in idl.tables["Bridge"].rows.values()))

    def _bridge_row(self, idl: Any, name: str) -> dict[str, Any] | None:
        return next((v for v in map(idl.view, idl.tables["Bridge"].rows.values()) if v["name"] == name), None)

    def bridge_ports(self, bridge: str) -> list[str]:
        """The ports of ``bridge`` without its local port, as ``list-ports``; PermanentError if missing."""

        def read(idl: Any) -> list[str]:
            row = self._bridge_row(idl, bridge)
            if row is None:
                raise PermanentError("ovsdb read", bridge, f"no bridge named {bridge}")
            ports = idl.tables["Port"].rows
            names = (idl.view(ports[u])["name"] for u in row["ports"] if u in ports)
            return sorted(n for n in names if n != bridge)

        return self._read(bridge, read)

    def bridge(self, name: str) -> BridgeInfo | None:
        def read(idl: Any) -> BridgeInfo | None:
            row = self._bridge_row(idl, name)
            return None if row is None else ovsdb_rows.bridge_info(row)

        return self._read(name, read)

    def port(self, name: str) -> PortInfo | None:
        found = self._read(name, lambda idl: ovsdb_rows.port_infos(idl, {}, name))
        return found[0] if found else None

    def change_number(self) -> int | None:
        """The IDL's ``change_seqno``: it changes with every update ovsdb-server sends (ours
        included) and at every reconnection; None while not connected."""
        connection = self.ovsdb_connection
        with connection.lock:
            return int(connection.idl.change_seqno) if connection.idl.connected() else None

    def find_ports(self, **other_config: str) -> list[PortInfo]:
        """Ports whose other_config holds all the given key=value pairs (all ports if none)."""
        return self._read("ports", lambda idl: ovsdb_rows.port_infos(idl, other_config))


class OvsdbIdlMonitor:
    """The agent's wake-up on VIF changes, served by the adapter's connection (no process).

    ``stop`` also closes the connection: the agent stops its monitor when it stops for good."""

    def __init__(self, ovsdb: IdlOvsdb, on_change: Callable[[], None]) -> None:
        self.ovsdb, self.on_change = ovsdb, on_change

    def start(self) -> None:
        self.ovsdb._listeners.append(self.on_change)

        def connect() -> None:
            try:
                self.ovsdb.ovsdb_connection
            except (TemporaryError, PermanentError) as exc:  # the agent's first pass retries
                LOG.info("ovsdb monitor on %s: %s", self.ovsdb.host.name, exc)

        threading.Thread(target=connect, name=f"ovsdb-connect-{self.ovsdb.host.name}", daemon=True).start()

    def stop(self) -> None:
        if self.on_change in self.ovsdb._listeners:
            self.ovsdb._listeners.remove(self.on_change)
        self.ovsdb.close()
