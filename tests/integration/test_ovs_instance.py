"""The real OVS daemons of one emulated host: idempotent start/stop, recovery of a killed vswitchd."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from neutrino.dataplane import daemons
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.openflow import PROTOCOLS, Flow, OpenFlow
from neutrino.dataplane.ovs import OvsInstance, detect_datapath_type
from neutrino.dataplane.ovsdb import Ovsdb
from tests.integration.ovs_fixtures import START_TIMEOUT, ovs_host  # noqa: F401

pytestmark = pytest.mark.root


def _gone(pid: int, program: str, timeout: float = 30.0) -> bool:  # bounds a failure only
    deadline = time.monotonic() + timeout
    while daemons.alive(pid, program):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_start_stop_idempotent(ovs_host: HostContext) -> None:  # noqa: F811
    ovs = OvsInstance(ovs_host)
    assert ovs.running()
    pids = ovs.pids()
    ovs.start(timeout=START_TIMEOUT)
    assert ovs.pids() == pids  # nothing restarted
    sockets = ovs.sockets()
    assert sockets["db"].is_socket() and sockets["ovs-vswitchd.ctl"].is_socket()
    assert all(len(str(path)) < 108 for path in sockets.values())
    assert "Open vSwitch" in ovs.appctl("version")  # default unixctl path found through OVS_RUNDIR

    ovs.stop()
    ovs.stop()
    assert not ovs.running() and ovs.pids() == {"ovsdb-server": None, "ovs-vswitchd": None}
    for program, pid in pids.items():
        assert pid is not None and _gone(pid, program)
        assert not (ovs_host.rundir / f"{program}.pid").exists()
    ovs.start(timeout=START_TIMEOUT)
    assert ovs.running()
    assert set(ovs.pids().values()).isdisjoint(pids.values())


def test_killed_vswitchd_comes_back_alone_with_ovsdb_but_without_flows(ovs_host: HostContext) -> None:  # noqa: F811
    ovs, db, of = OvsInstance(ovs_host), Ovsdb(ovs_host), OpenFlow(ovs_host)
    with db.transaction() as tx:
        tx.add_bridge("br-int", datapath_type=detect_datapath_type(), fail_mode="secure", protocols=PROTOCOLS)
        tx.add_port("br-int", "qvo1", iface_type="internal", tag=10, port_other_config={"segmentation_id": "100"})
    flows = [Flow(0, 0, "", "NORMAL"), Flow(0, 5, "in_port=qvo1", "drop")]
    of.apply("br-int", flows)
    assert of.cookie_flows("br-int") == 2
    before = ovs.pids()

    os.kill(before["ovs-vswitchd"], signal.SIGKILL)  # type: ignore[arg-type]
    assert _gone(before["ovs-vswitchd"], "ovs-vswitchd")  # type: ignore[arg-type]
    assert ovs.pids()["ovs-vswitchd"] is None and not ovs.running()
    ovs.start(timeout=START_TIMEOUT)
    after = ovs.pids()
    assert after["ovsdb-server"] == before["ovsdb-server"]  # only vswitchd was started
    assert after["ovs-vswitchd"] not in (None, before["ovs-vswitchd"])

    assert db.list_bridges() == ["br-int"]
    port = db.port("qvo1")
    assert port is not None and (port.tag, port.port_other_config) == (10, {"segmentation_id": "100"})
    assert of.cookie_flows("br-int") == 0 and of.dump("br-int") == []  # flows are gone (docs/dataplane.md)
    of.forget("br-int")
    of.apply("br-int", flows)
    assert of.cookie_flows("br-int") == 2

    ovs.stop()
    for program, pid in after.items():
        assert _gone(pid, program)  # type: ignore[arg-type]


def test_stop_never_signals_a_recycled_pid(tmp_path: Path) -> None:
    pidfile = tmp_path / "ovs-vswitchd.pid"
    pidfile.write_text(f"{os.getpid()}\n")  # a live process, but not ovs-vswitchd: us
    assert daemons.read_pid(pidfile) == os.getpid()
    assert not daemons.alive(os.getpid(), "ovs-vswitchd")
    assert daemons.stop(pidfile, "ovs-vswitchd") is False  # we are still here
    assert not pidfile.exists()
    assert daemons.stop(pidfile, "ovs-vswitchd") is False  # missing pidfile: fine
    pidfile.write_text("garbage")
    assert daemons.read_pid(pidfile) is None
