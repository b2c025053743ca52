"""Connections this process keeps to a lab's emulated hosts for plugging instances, as Nova's
os-vif keeps its own: one OVSDB IDL connection per host (a plug is one transaction on it, not
an ``ovs-vsctl`` process) and one netlink socket in each host's namespace (pyroute2 opens a
socket in another namespace by forking the process: tens of milliseconds per plug otherwise).
``close_connections`` closes a lab's when it is taken down (``teardown.down``), so no
connection is left retrying against a dead ovsdb-server.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from neutrino.dataplane.netlink import Netlink
from neutrino.dataplane.ovsdb_idl import IdlOvsdb
from neutrino.lab import resolve

_CONNECTIONS: dict[tuple[str, str], IdlOvsdb] = {}
_HOST_LINKS: dict[str, tuple[threading.Lock, Netlink]] = {}
_CONNECTIONS_LOCK = threading.Lock()


def ovsdb(host: resolve.ResolvedHost) -> IdlOvsdb:
    """The host's OVSDB through one IDL connection kept for this process (one transaction per
    plug instead of an ``ovs-vsctl`` process), opened on first use."""
    key = (host.context.prefix, host.context.ovsdb_remote)
    with _CONNECTIONS_LOCK:
        found = _CONNECTIONS.get(key)
        if found is None:
            found = _CONNECTIONS[key] = IdlOvsdb(host.context)
        return found


@contextlib.contextmanager
def host_links(host: resolve.ResolvedHost) -> Iterator[Netlink]:
    """The netlink socket kept for the host's namespace, one plug at a time."""
    with _CONNECTIONS_LOCK:
        entry = _HOST_LINKS.get(host.context.prefix)
        if entry is None:
            entry = _HOST_LINKS[host.context.prefix] = (threading.Lock(), Netlink())
    lock, netlink = entry
    with lock:
        yield netlink


def close_connections(lab_name: str) -> None:
    """Close the OVSDB connections and netlink sockets this process opened to ``lab_name``'s
    hosts (its teardown)."""
    prefix = resolve.lab_prefix(lab_name)
    with _CONNECTIONS_LOCK:
        closing = [_CONNECTIONS.pop(key) for key in [k for k in _CONNECTIONS if k[0].startswith(prefix)]]
        links = [_HOST_LINKS.pop(key) for key in [k for k in _HOST_LINKS if k.startswith(prefix)]]
    for connection in closing:
        connection.close()
    for lock, netlink in links:
        with lock:
            netlink.close()
