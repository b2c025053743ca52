"""Learn at once that ovs-vswitchd restarted, from an OpenFlow connection that drops with it.

A vswitchd restart keeps OVSDB but loses every flow (docs/dataplane.md, "Flows are lost when
vswitchd restarts"), and OVSDB shows nothing of it: with the userspace datapath no replicated
row changes at all, ``cur_cfg``, ``ofport``, ``ifindex`` and ``datapath_id`` included
(docs/dataplane.md, "Noticing a vswitchd restart"). vswitchd's own sockets are the signal: this
watcher keeps one idle OpenFlow connection on a bridge's management socket
(``<rundir>/<bridge>.mgmt``, where ``ovs-ofctl`` connects too). The connection ends the moment
vswitchd dies (the kernel closes its sockets); the watcher then connects again until the new
vswitchd listens on the bridge's socket and answers the hello, which it does once it has
configured the bridges from OVSDB, and only then calls ``on_restart`` (from its own thread: the
callback must not block). The first connection calls nothing: the agent's first pass replaces
the tables anyway.

While vswitchd is down the reconnection is a ``connect`` on a unix socket every ``RETRY``
seconds: no program is started, no OVSDB or flow request made.
"""

from __future__ import annotations

import errno
import logging
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

from neutrino.dataplane.host import HostContext

LOG = logging.getLogger(__name__)

RETRY = 0.02
"""Seconds between two connection attempts while the bridge's socket is gone or refused."""
HELLO_TIMEOUT = 2.0
"""Seconds a freshly accepted connection has to answer the hello."""

OFPT_HELLO, OFPT_ECHO_REQUEST, OFPT_ECHO_REPLY = 0, 2, 3
HEADER = struct.Struct("!BBHI")  # version, type, length, xid
VERSIONS = (0x01, 0x04, 0x05, 0x06)
"""OpenFlow 1.0, 1.3, 1.4, 1.5: whichever the bridge allows (``openflow.PROTOCOLS``)."""


def hello() -> bytes:
    """An OpenFlow hello offering ``VERSIONS`` through a version bitmap element."""
    bitmap = sum(1 << v for v in VERSIONS)
    element = struct.pack("!HHI", 1, 8, bitmap)  # OFPHET_VERSIONBITMAP
    return HEADER.pack(max(VERSIONS), OFPT_HELLO, HEADER.size + len(element), 0) + element


def answers(buffer: bytearray) -> list[bytes]:
    """Consume the whole messages of ``buffer``; the echo replies they call for."""
    out = []
    while len(buffer) >= HEADER.size:
        version, kind, length, xid = HEADER.unpack_from(buffer)
        if length < HEADER.size:
            raise ValueError(f"bad OpenFlow length {length}")
        if len(buffer) < length:
            break
        body = bytes(buffer[HEADER.size : length])
        del buffer[:length]
        if kind == OFPT_ECHO_REQUEST:
            out.append(HEADER.pack(version, OFPT_ECHO_REPLY, length, xid) + body)
    return out


class VswitchdWatch:
    """One thread holding an OpenFlow connection to ``bridge`` of ``host``'s vswitchd."""

    def __init__(self, host: HostContext, on_restart: Callable[[], None], bridge: str = "br-int") -> None:
        self.path: Path = host.rundir / f"{bridge}.mgmt"
        self.name = f"{host.name}/{bridge}"
        self.on_restart = on_restart
        self.connected = threading.Event()
        self.restarts = 0
        self.back_at: float | None = None
        """``time.monotonic()`` when the last restart was reported (for benchmarks)."""
        self._stop = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"vswitchd-watch-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake_w.send(b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._wake_r.close()
        self._wake_w.close()

    def _run(self) -> None:
        seen = False  # a connection existed before: the next one follows a restart
        while not self._stop.is_set():
            sock = self._connect()
            if sock is None:
                self._stop.wait(RETRY)
                continue
            self.connected.set()
            if seen:
                self.restarts += 1
                self.back_at = time.monotonic()
                LOG.warning("vswitchd watch %s: ovs-vswitchd is back (restarted)", self.name)
                try:
                    self.on_restart()
                except Exception:  # noqa: BLE001 - a callback's bug must not end the watch
                    LOG.exception("vswitchd watch %s: on_restart failed", self.name)
            seen = True
            with sock:
                self._hold(sock)
            self.connected.clear()

    def _connect(self) -> socket.socket | None:
        """A connection whose hello was answered, or None (no socket, refused, or no answer)."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(HELLO_TIMEOUT)
            sock.connect(str(self.path))
            sock.sendall(hello())
            header = sock.recv(HEADER.size, socket.MSG_WAITALL)
            if len(header) < HEADER.size or HEADER.unpack(header)[1] != OFPT_HELLO:
                raise OSError(errno.EPROTO, "no OpenFlow hello")
            length = HEADER.unpack(header)[2]
            if length > HEADER.size:
                sock.recv(length - HEADER.size, socket.MSG_WAITALL)
            sock.settimeout(None)
            return sock
        except OSError as exc:
            if exc.errno not in (errno.ENOENT, errno.ECONNREFUSED):
                LOG.debug("vswitchd watch %s: %s", self.name, exc)
            sock.close()
            return None

    def _hold(self, sock: socket.socket) -> None:
        """Answer echo requests until the connection ends (vswitchd died) or ``stop``."""
        buffer = bytearray()
        while not self._stop.is_set():
            ready, _, _ = select.select([sock, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                LOG.warning("vswitchd watch %s: the OpenFlow connection ended (ovs-vswitchd stopped?)", self.name)
                return
            buffer += data
            try:
                for reply in answers(buffer):
                    sock.sendall(reply)
            except (OSError, ValueError) as exc:
                LOG.warning("vswitchd watch %s: %s", self.name, exc)
                return
