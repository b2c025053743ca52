"""The vswitchd watcher (``dataplane/vswitchd_watch.py``) against a stand-in management socket: the
OpenFlow it speaks (hello, echo), and a restart reported only once the socket serves again."""

from __future__ import annotations

import socket
import struct
import tempfile
import threading
from pathlib import Path

import pytest

from neutrino.dataplane.host import HostContext
from neutrino.dataplane.vswitchd_watch import HEADER, OFPT_ECHO_REPLY, OFPT_ECHO_REQUEST, OFPT_HELLO, VswitchdWatch, answers, hello

pytestmark = pytest.mark.unit


def test_hello_offers_the_bridge_protocols_in_a_version_bitmap() -> None:
    version, kind, length, _ = HEADER.unpack_from(hello())
    assert (version, kind, length) == (6, OFPT_HELLO, 16)
    assert struct.unpack_from("!HHI", hello(), 8) == (1, 8, 0b1110010)


def test_answers_echo_requests_and_keeps_a_partial_message() -> None:
    echo = HEADER.pack(4, OFPT_ECHO_REQUEST, 12, 7) + b"abcd"
    other = HEADER.pack(4, 10, 8, 1)
    buffer = bytearray(other + echo + echo[:5])
    assert answers(buffer) == [HEADER.pack(4, OFPT_ECHO_REPLY, 12, 7) + b"abcd"]
    assert buffer == bytearray(echo[:5])


class FakeSwitch:
    """A management socket that answers the hello and can be taken away (vswitchd died)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conns: list[socket.socket] = []
        self.listener: socket.socket | None = None

    def up(self) -> None:
        self.path.unlink(missing_ok=True)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(self.path))
        self.listener.listen(4)
        threading.Thread(target=self._serve, args=(self.listener,), daemon=True).start()

    def _serve(self, listener: socket.socket) -> None:
        try:
            while True:
                conn, _ = listener.accept()
                self.conns.append(conn)
                conn.recv(64)
                conn.sendall(HEADER.pack(4, OFPT_HELLO, 8, 0))
                conn.sendall(HEADER.pack(4, OFPT_ECHO_REQUEST, 8, 9))
        except OSError:
            return

    def echo_answered(self) -> bool:
        return HEADER.unpack(self.conns[-1].recv(8))[1] == OFPT_ECHO_REPLY

    def down(self) -> None:
        assert self.listener is not None
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept, which would keep it listening
        self.listener.close()  # the stale socket file stays, as after a SIGKILL: refused
        for conn in self.conns:
            conn.close()
        self.conns.clear()


def test_a_restart_is_reported_once_the_socket_serves_again() -> None:
    with tempfile.TemporaryDirectory() as d:
        switch = FakeSwitch(Path(d) / "br-int.mgmt")
        back = threading.Event()
        watch = VswitchdWatch(HostContext("h", ovs_dir=Path(d)), back.set)
        watch.start()  # before vswitchd is up: it connects when it can
        try:
            switch.up()
            assert watch.connected.wait(30)
            assert switch.echo_answered()
            assert not back.is_set()  # the first connection is no restart
            switch.down()
            assert not back.wait(0.2)  # down is not back
            switch.up()
            assert back.wait(30)
            assert watch.restarts == 1
        finally:
            watch.stop()
            if switch.listener is not None and switch.listener.fileno() != -1:
                switch.down()


def test_the_agent_resyncs_when_its_watch_reports_vswitchd_back(tmp_path: Path) -> None:
    from neutrino.agent.adapters import AgentAdapters
    from neutrino.agent.runner import AgentSettings, HostAgent
    from neutrino.bus.inproc import InProcTransport
    from neutrino.dataplane.fake import FakeNetlink, FakeNftables
    from neutrino.dataplane.fake_ovs import FakeOpenFlow, FakeOvsdb, FakeOvsInstance, FakeOvsState

    class Watch:
        def __init__(self, back: object) -> None:
            self.back, self.started = back, False

        def start(self) -> None:
            self.started = True

        def stop(self) -> None:
            self.started = False

    class NoPolls(FakeOvsInstance):
        def pids(self) -> dict[str, int | None]:
            raise AssertionError("vswitchd's pid is not polled when a watch runs")

    state, netlink = FakeOvsState(), FakeNetlink()
    watches: list[Watch] = []
    adapters = AgentAdapters(netlink=netlink, nftables=FakeNftables(netlink), ovsdb=FakeOvsdb(state=state),
                             openflow=FakeOpenFlow(state=state), switch=NoPolls(state=state),
                             switch_watch=lambda back: watches.append(Watch(back)) or watches[-1])  # fmt: skip
    transport = InProcTransport()
    agent = HostAgent(HostContext(name="h"), transport, AgentSettings(roles=("l2",), firewall=False, state_dir=tmp_path), adapters)
    try:
        [watch] = watches
        assert not agent._vswitchd_restarted()
        watch.back()  # type: ignore[operator]
        assert agent.queue.get(timeout=0) == "l2"
        assert agent._vswitchd_restarted() and not agent._vswitchd_restarted()
    finally:
        transport.close()


def test_a_resync_that_meets_a_settling_vswitchd_retries_without_refetching(tmp_path: Path) -> None:
    """vswitchd accepted the watch's connection but dropped ovs-ofctl's: the pass fails with a
    TemporaryError and is retried from the queue, still with the last desired state."""
    import time

    from neutrino.agent.adapters import AgentAdapters
    from neutrino.agent.runner import AgentSettings, HostAgent
    from neutrino.bus.inproc import InProcTransport
    from neutrino.dataplane.errors import TemporaryError
    from neutrino.dataplane.fake import FakeNetlink, FakeNftables
    from neutrino.dataplane.fake_ovs import FakeOpenFlow, FakeOvsdb, FakeOvsInstance, FakeOvsState
    from tests.unit.test_incremental_agent import CACHED

    state, netlink = FakeOvsState(), FakeNetlink()
    openflow, watches = FakeOpenFlow(state=state), []
    adapters = AgentAdapters(netlink=netlink, nftables=FakeNftables(netlink), ovsdb=FakeOvsdb(state=state), openflow=openflow,
                             switch=FakeOvsInstance(state=state), switch_watch=lambda back: watches.append(back) or back)  # fmt: skip
    transport = InProcTransport()
    settings = AgentSettings(roles=("l2",), firewall=False, state_dir=tmp_path, idle_check=0.05, resync_interval=3600,
                             audit_interval=0)  # fmt: skip
    agent = HostAgent(HostContext(name="h"), transport, settings, adapters)
    fetches: list[int] = []
    agent.client.desired_state = lambda: fetches.append(1) or CACHED  # type: ignore[method-assign]
    agent.client.report_pass = lambda **kw: None  # type: ignore[method-assign,assignment]
    agent.reconcile_once()
    replace, failed = openflow.replace, []

    def settling(bridge: str, flows: object) -> None:
        if not failed:
            failed.append(bridge)
            raise TemporaryError("replace flows", bridge, "Connection reset by peer")
        replace(bridge, flows)  # type: ignore[arg-type]

    openflow.replace = settling  # type: ignore[method-assign]
    worker = threading.Thread(target=agent._work, daemon=True)
    worker.start()
    try:
        watches[0]()  # vswitchd is back
        deadline = time.monotonic() + 30  # bounds a failure only
        while agent.passes < 2:
            assert time.monotonic() < deadline, "no pass after the retry"
            time.sleep(0.02)
        assert failed and fetches == [1]  # retried, with the state it had
    finally:
        agent._stop.set()
        agent.queue.close()
        worker.join(timeout=5)
        transport.close()
