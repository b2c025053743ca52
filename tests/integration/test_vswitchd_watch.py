"""The vswitchd watcher (``dataplane/vswitchd_watch.py``) against a private OVS (root): a killed and
restarted vswitchd is reported once the new one serves the bridge, and by then a bundle that names
the bridge's ports by name goes through (the agent's resync right after the callback)."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from neutrino.dataplane import daemons
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.openflow import PROTOCOLS, Flow, OpenFlow
from neutrino.dataplane.ovs import OvsInstance, detect_datapath_type
from neutrino.dataplane.ovsdb import Ovsdb
from neutrino.dataplane.vswitchd_watch import VswitchdWatch
from tests.integration.ovs_fixtures import START_TIMEOUT, ovs_host  # noqa: F401

pytestmark = pytest.mark.root


def test_restart_is_reported_once_vswitchd_serves_the_bridge(ovs_host: HostContext) -> None:  # noqa: F811
    with Ovsdb(ovs_host).transaction() as txn:
        txn.add_bridge("br-int", datapath_type=detect_datapath_type(), fail_mode="secure", protocols=PROTOCOLS)
        txn.add_port("br-int", "vif1", iface_type="internal")
    back = threading.Event()
    watch = VswitchdWatch(ovs_host, back.set)
    watch.start()
    try:
        assert watch.connected.wait(30), "no OpenFlow connection to br-int"
        assert not back.is_set()  # the first connection is no restart
        ovs = OvsInstance(ovs_host)
        pid = ovs.pids()["ovs-vswitchd"]
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30  # bounds a failure only
        while daemons.alive(pid, "ovs-vswitchd") or watch.connected.is_set():
            assert time.monotonic() < deadline, "the watch did not see vswitchd go"
            time.sleep(0.01)
        assert not back.is_set()
        ovs.start(timeout=START_TIMEOUT)
        assert back.wait(30), "the restart was not reported"  # (how soon: bench/converge.py measures it)
        assert watch.restarts == 1
        flows = OpenFlow(ovs_host)
        flows.replace("br-int", [Flow(0, 10, "in_port=vif1", "drop")])  # ports by name: already there
        assert flows.cookie_flows("br-int") == 1
    finally:
        watch.stop()
