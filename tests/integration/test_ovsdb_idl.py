"""The persistent OVSDB connection (``dataplane/ovsdb_idl.py``) against a private OVS (root): what
ovs-vsctl gave for free and a long-lived connection must do itself. The shared semantics (reads,
errors, atomicity, waiting for vswitchd) are in ``tests/contract/test_ovs_contract.py``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from neutrino.dataplane.errors import TemporaryError
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.openflow import PROTOCOLS
from neutrino.dataplane.ovs import OVSDB_SERVER, OvsInstance, detect_datapath_type
from neutrino.dataplane.ovsdb import Ovsdb
from neutrino.dataplane.ovsdb_idl import IdlOvsdb
from tests.integration.ovs_fixtures import START_TIMEOUT, ovs_host  # noqa: F401

pytestmark = pytest.mark.root


def _applied(db: IdlOvsdb, port: str, **values: int) -> bool:
    """One write of ``values`` to ``port`` that vswitchd applied; False when it did not (yet)."""
    try:
        db.transaction().set_port(port, **values).commit()
    except TemporaryError:
        return False
    return True


PATIENT = 30.0  # ovsdb-server answers late on a loaded machine; only a failure waits this long


def until(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


def test_monitor_wakes_on_vif_changes_and_reconnects_after_ovsdb_server_restart(ovs_host: HostContext) -> None:  # noqa: F811
    db = IdlOvsdb(ovs_host, timeout=PATIENT)
    woken = threading.Event()
    monitor = db.monitor(woken.set)
    try:
        monitor.start()
        with db.transaction() as txn:
            txn.add_bridge("br-int", datapath_type=detect_datapath_type(), fail_mode="secure", protocols=PROTOCOLS)
        woken.clear()
        # another writer (Nova's plug) adds a VIF: the monitor wakes, the replica has its ofport
        Ovsdb(ovs_host).transaction().add_port("br-int", "tap1", iface_type="internal",
                                               iface_external_ids={"iface-id": "p1"}).commit()  # fmt: skip
        assert woken.wait(PATIENT)
        assert until(lambda: (p := db.port("tap1")) is not None and p.ofport not in (None, -1))
        # a connection's first load wakes no listener: whoever opened it reads next and sees every
        # row (a restarted agent would run its first pass twice); later changes do wake it
        fresh, told = IdlOvsdb(ovs_host, timeout=PATIENT), threading.Event()
        fresh_monitor = fresh.monitor(told.set)
        try:
            fresh_monitor.start()
            assert "tap1" in {p.name for p in fresh.find_ports()} and not told.wait(0.3)
            Ovsdb(ovs_host).transaction().set_port("tap1", other_config={"seen": "1"}).commit()
            Ovsdb(ovs_host).transaction().add_port("br-int", "tap2", iface_type="internal").commit()
            assert told.wait(PATIENT)
        finally:
            fresh_monitor.stop()
        # writes are visible to the next read at once, without waiting for vswitchd too
        nowait = IdlOvsdb(ovs_host, timeout=PATIENT, wait=False)
        try:
            nowait.transaction().set_port("tap1", tag=7).commit()
            assert nowait.port("tap1").tag == 7
        finally:
            nowait.close()

        OvsInstance(ovs_host)._daemon(OVSDB_SERVER).stop(5)
        assert until(lambda: not db.idl.connected())
        with pytest.raises(TemporaryError):
            db.find_ports()
        db.timeout = 3.0  # this write must time out (no ovsdb-server): nothing else has to finish in time
        try:
            with pytest.raises(TemporaryError):
                db.transaction().set_port("tap1", tag=8).commit()
        finally:
            db.timeout = PATIENT
        woken.clear()
        OvsInstance(ovs_host).start(timeout=START_TIMEOUT)
        assert woken.wait(PATIENT), "a reconnection wakes the listeners (resync)"
        assert until(lambda: db.idl.connected())
        assert db.port("tap1").tag == 7
        # and writes again, waiting for vswitchd: vswitchd reconnects to the restarted ovsdb-server
        # with its own backoff (up to 8 s), so until then a write commits but reports
        # TemporaryError, which the agent retries; so does this test
        assert until(lambda: _applied(db, "tap1", tag=9), timeout=30)
        assert Ovsdb(ovs_host).port("tap1").tag == 9
    finally:
        monitor.stop()
    with pytest.raises(Exception):
        db.find_ports()  # stopping the monitor closed the connection
