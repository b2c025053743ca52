"""One suite, three adapters: the in-memory fakes must behave like the real ovs-vsctl/ovs-ofctl, and
the persistent IDL connection (``ovsdb_idl``) like ovs-vsctl.

The ``fake`` variant is a unit test; the ``real`` and ``idl`` ones (root) run against a private OVS
in a throwaway namespace (``tests/integration/ovs_fixtures.py``). Only observable behaviour is compared:
read-back values, idempotency, error types, flow counts (not ovs-ofctl's text).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from neutrino.dataplane import daemons
from neutrino.dataplane.errors import PermanentError, TemporaryError
from neutrino.dataplane.fake_ovs import FakeOpenFlow, FakeOvsdb, FakeOvsInstance, FakeOvsState
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.openflow import COOKIE, PROTOCOLS, Flow, OpenFlow
from neutrino.dataplane.ovs import OvsInstance, detect_datapath_type
from neutrino.dataplane.ovsdb import Ovsdb
from neutrino.dataplane.ovsdb_idl import IdlOvsdb
from tests.integration.ovs_fixtures import START_TIMEOUT, ovs_host  # noqa: F401


PATIENT = 30.0  # ovsdb-server and vswitchd answer late on a loaded machine; only a failure waits this long
IMPATIENT = 3.0  # for the write that must time out (vswitchd is dead): nothing else has to finish in time


@dataclass
class Rig:
    instance: Any
    db: Any
    of: Any
    kill_vswitchd: Callable[[], None]


def _kill_real_vswitchd(instance: OvsInstance) -> None:
    pid = instance.pids()["ovs-vswitchd"]
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30  # bounds a failure only: reaping is asynchronous
    while daemons.alive(pid, "ovs-vswitchd"):
        assert time.monotonic() < deadline, "ovs-vswitchd outlived SIGKILL"
        time.sleep(0.02)


@pytest.fixture(params=[pytest.param("fake", marks=pytest.mark.unit), pytest.param("real", marks=pytest.mark.root),
                        pytest.param("idl", marks=pytest.mark.root)])  # fmt: skip
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    if request.param == "fake":
        host = HostContext("fake", netns="nt-fake", ovs_dir=Path("/tmp/nt-ovs-fake"))
        state = FakeOvsState()
        fake = FakeOvsInstance(host, state)
        yield Rig(fake, FakeOvsdb(host, state), FakeOpenFlow(host, state), fake.kill_vswitchd)
        return
    host = request.getfixturevalue("ovs_host")
    real = OvsInstance(host)
    if request.param == "real":
        yield Rig(real, Ovsdb(host, timeout=PATIENT), OpenFlow(host), lambda: _kill_real_vswitchd(real))
        return
    idl = IdlOvsdb(host, timeout=PATIENT)
    try:
        yield Rig(real, idl, OpenFlow(host), lambda: _kill_real_vswitchd(real))
    finally:
        idl.close()


def bridge(rig: Rig, name: str = "br-int") -> None:
    with rig.db.transaction() as tx:
        tx.add_bridge(name, datapath_type=detect_datapath_type(), fail_mode="secure", protocols=PROTOCOLS)


def test_bridge_create_delete_idempotent(rig: Rig) -> None:
    for _ in range(2):
        with rig.db.transaction() as tx:
            tx.add_bridge("br-int", datapath_type="netdev", fail_mode="secure", protocols=PROTOCOLS,
                          external_ids={"bridge-id": "br-int"}, other_config={"x": "1"})  # fmt: skip
    assert rig.db.list_bridges() == ["br-int"]
    info = rig.db.bridge("br-int")
    assert (info.datapath_type, info.fail_mode, info.protocols) == ("netdev", "secure", ("OpenFlow10", "OpenFlow13", "OpenFlow14"))
    assert (info.external_ids, info.other_config) == ({"bridge-id": "br-int"}, {"x": "1"})
    assert rig.db.bridge_ports("br-int") == []  # the local port is not listed
    with pytest.raises(PermanentError):
        rig.db.transaction().add_bridge("br-int", may_exist=False).commit()
    for _ in range(2):
        rig.db.transaction().del_bridge("br-int").commit()
    assert rig.db.list_bridges() == []
    assert rig.db.bridge("br-int") is None
    with pytest.raises(PermanentError):
        rig.db.transaction().del_bridge("br-int", if_exists=False).commit()
    with pytest.raises(PermanentError):
        rig.db.bridge_ports("br-int")


def test_ports_read_back_and_converge(rig: Rig) -> None:
    bridge(rig)
    for _ in range(2):
        with rig.db.transaction() as tx:
            tx.add_port("br-int", "patch-tun", iface_type="patch", options={"peer": "patch-int"}, tag=10,
                        port_other_config={"net_uuid": "1111", "segmentation_id": 100},
                        iface_external_ids={"iface-id": "p:1", "attached-mac": "fa:16:3e:00:01:11"})  # fmt: skip
    p = rig.db.port("patch-tun")
    assert (p.name, p.bridge, p.tag, p.iface_type) == ("patch-tun", "br-int", 10, "patch")
    assert p.port_other_config == {"net_uuid": "1111", "segmentation_id": "100"}  # strings
    assert p.iface_options == {"peer": "patch-int"}
    assert p.iface_external_ids == {"iface-id": "p:1", "attached-mac": "fa:16:3e:00:01:11"}
    assert isinstance(p.ofport, int) and p.ofport > 0
    assert rig.db.bridge_ports("br-int") == ["patch-tun"]
    assert rig.db.port("br-int").iface_type == "internal"
    # may_exist still applies the settings; None removes a key; tag=None clears
    rig.db.transaction().add_port("br-int", "patch-tun", tag=11, port_other_config={"segmentation_id": None, "tag": "11"}).commit()
    p = rig.db.port("patch-tun")
    assert (p.tag, p.port_other_config) == (11, {"net_uuid": "1111", "tag": "11"})
    with rig.db.transaction() as tx:
        tx.set_port("patch-tun", tag=None, other_config={"net_uuid": "2222"})
        tx.set_interface("patch-tun", external_ids={"iface-status": "active", "attached-mac": None}, options={"peer": "x"})
    p = rig.db.port("patch-tun")
    assert (p.tag, p.port_other_config["net_uuid"], p.iface_options) == (None, "2222", {"peer": "x"})
    assert p.iface_external_ids == {"iface-id": "p:1", "iface-status": "active"}
    rig.db.transaction().set_port("patch-tun", other_config={"a": "b"}).commit()  # tag=... leaves the tag
    assert rig.db.port("patch-tun").tag is None
    for _ in range(2):
        rig.db.transaction().del_port("patch-tun").commit()
    assert rig.db.port("patch-tun") is None


def test_find_ports(rig: Rig) -> None:
    bridge(rig)
    with rig.db.transaction() as tx:
        for name, net, kind in [("pa", "n:1", "vlan"), ("pb", "n:1", "vxlan"), ("pc", "n 2", "vlan")]:
            tx.add_port("br-int", name, iface_type="patch", options={"peer": "none"},
                        port_other_config={"net_uuid": net, "network_type": kind})  # fmt: skip
    assert [p.name for p in rig.db.find_ports(net_uuid="n:1")] == ["pa", "pb"]
    assert [p.name for p in rig.db.find_ports(net_uuid="n:1", network_type="vlan")] == ["pa"]
    assert [p.name for p in rig.db.find_ports(net_uuid="n 2")] == ["pc"]
    assert rig.db.find_ports(net_uuid="none") == []
    assert [p.name for p in rig.db.find_ports()] == ["br-int", "pa", "pb", "pc"]
    assert {p.bridge for p in rig.db.find_ports(network_type="vlan")} == {"br-int"}


def test_change_number_moves_with_every_commit_and_only_then(rig: Rig) -> None:
    """The L2 pass's shortcut (``agent/l2/reconciler.py``) trusts it: a commit changes it, reads
    do not; ovs-vsctl (a program per read) keeps none."""
    bridge(rig)
    first = rig.db.change_number()
    if isinstance(rig.db, Ovsdb):
        assert first is None
        return

    def settled() -> Any:  # the IDL applies ovsdb-server's updates on its own thread
        number, deadline = rig.db.change_number(), time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.1)
            number, before = rig.db.change_number(), number
            if number == before:
                return number
        return number

    def a_read_leaves_it() -> bool:
        # a late update of vswitchd's (after a quiet 0.1 s) would move it too: that try does not
        # count; were reads to move it, no try would pass
        before = settled()
        assert before is not None
        rig.db.find_ports()
        return rig.db.change_number() == before

    assert any(a_read_leaves_it() for _ in range(5))
    first = settled()
    with rig.db.transaction() as tx:
        tx.add_port("br-int", "pz", iface_type="patch", options={"peer": "none"})
    deadline = time.monotonic() + 30
    while rig.db.change_number() == first and time.monotonic() < deadline:
        time.sleep(0.02)
    assert rig.db.change_number() != first


def test_typed_errors_and_atomic_transactions(rig: Rig) -> None:
    bridge(rig)
    bridge(rig, "br-tun")
    rig.db.transaction().add_port("br-int", "p1", iface_type="patch", options={"peer": "p2"}).commit()
    failing = [
        lambda tx: tx.add_port("br-missing", "p9"),
        lambda tx: tx.add_port("br-tun", "p1"),  # exists on another bridge, even with may_exist
        lambda tx: tx.add_port("br-int", "p1", may_exist=False),
        lambda tx: tx.del_port("p-missing", if_exists=False),
        lambda tx: tx.del_port("p1", bridge="br-tun"),  # wrong bridge, even with if_exists
        lambda tx: tx.del_port("p1", bridge="br-missing"),
        lambda tx: tx.set_port("p-missing", tag=3),
        lambda tx: tx.set_port("p1", tag=4096),
        lambda tx: tx.set_interface("p-missing", external_ids={"a": "b"}),
    ]
    for add_failing in failing:
        tx = rig.db.transaction().add_bridge("br-new")
        add_failing(tx)
        with pytest.raises(PermanentError) as caught:
            tx.commit()
        assert not isinstance(caught.value, TemporaryError)
        assert "br-new" not in rig.db.list_bridges()  # all or nothing
    assert rig.db.port("p1").bridge == "br-int"
    rig.db.transaction().del_port("p-missing").del_port("p1", bridge="br-int").commit()
    assert rig.db.bridge_ports("br-int") == []


FLOWS = [Flow(0, 0, "", "NORMAL"), Flow(0, 2, "in_port=p1", "drop"), Flow(0, 3, "in_port=p1,dl_vlan=100", "mod_vlan_vid:10,NORMAL")]


def test_flows_replace_apply_dump(rig: Rig) -> None:
    bridge(rig)
    rig.db.transaction().add_port("br-int", "p1", iface_type="patch", options={"peer": "p2"}).commit()
    rig.of.replace("br-int", FLOWS)
    assert (len(rig.of.dump("br-int")), rig.of.cookie_flows("br-int")) == (3, 3)
    assert rig.of.apply("br-int", list(reversed(FLOWS))) == []
    changed = [FLOWS[0], Flow(0, 3, "in_port=p1,dl_vlan=100", "mod_vlan_vid:11,NORMAL"), Flow(1, 1, "", "drop")]
    lines = rig.of.apply("br-int", changed)
    assert sorted(line.split()[0] for line in lines) == ["add", "add", "delete_strict"]
    assert (len(rig.of.dump("br-int")), rig.of.cookie_flows("br-int")) == (3, 3)
    assert any("mod_vlan_vid:11" in line for line in rig.of.dump("br-int"))
    rig.of.forget("br-int")
    rig.of.apply("br-int", [Flow(0, 0, "", "NORMAL", cookie=0x1)])
    assert (len(rig.of.dump("br-int")), rig.of.cookie_flows("br-int")) == (1, 0)
    with pytest.raises(PermanentError):
        rig.of.replace("br-missing", FLOWS)
    with pytest.raises(PermanentError):
        rig.of.dump("br-missing")
    with pytest.raises(PermanentError):
        rig.of.replace("br-int", [Flow(0, 1, "", "drop"), Flow(0, 1, "", "NORMAL")])
    assert rig.of.cookie_flows("br-int") == 0
    assert COOKIE != 0x1


def test_vswitchd_restart_keeps_ovsdb_loses_flows(rig: Rig) -> None:
    bridge(rig)
    rig.db.transaction().add_port("br-int", "p1", iface_type="patch", options={"peer": "p2"}, tag=10).commit()
    rig.of.apply("br-int", FLOWS)
    rig.kill_vswitchd()
    with pytest.raises(TemporaryError):
        rig.of.dump("br-int")
    assert rig.db.port("p1").tag == 10  # reads need only ovsdb-server
    rig.db.timeout = IMPATIENT  # the timeout is the point here; the rig's own is long
    try:
        with pytest.raises(TemporaryError):  # a write waits for vswitchd: timeout, though committed
            rig.db.transaction().set_port("p1", tag=12).commit()
    finally:
        rig.db.timeout = PATIENT
    assert rig.db.port("p1").tag == 12
    rig.instance.start(timeout=START_TIMEOUT)
    assert rig.instance.running()
    assert rig.db.list_bridges() == ["br-int"] and rig.db.bridge_ports("br-int") == ["p1"]
    assert rig.of.cookie_flows("br-int") == 0  # flows are lost on restart (docs/dataplane.md)
    assert rig.of.apply("br-int", FLOWS) == []  # the record is stale: it believes nothing changed
    rig.of.forget()
    rig.of.apply("br-int", FLOWS)
    assert rig.of.cookie_flows("br-int") == 3


def test_meters_set_change_prune(rig: Rig) -> None:
    """QoS meters (docs/dataplane.md, "QoS"): added and changed before the flows using them,
    pruned after; pruning a meter takes its flows with it, as OpenFlow does."""
    bridge(rig)
    rig.db.transaction().add_port("br-int", "p1", iface_type="patch", options={"peer": "p2"}).commit()
    assert rig.of.set_meters("br-int", {2: (50000, 40000)}) == 1
    assert rig.of.set_meters("br-int", {2: (50000, 40000)}) == 0
    rig.of.apply("br-int", [Flow(0, 10, "in_port=p1", "meter:2,NORMAL"), Flow(0, 0, "", "NORMAL")])
    assert len(rig.of.dump("br-int")) == 2  # (an OpenFlow 1.0 dump does not show the meter)
    assert rig.of.set_meters("br-int", {2: (20000, 16000), 3: (1000, 800)}) == 2
    assert rig.of.prune_meters("br-int", [2, 3]) == 0
    assert rig.of.prune_meters("br-int", [3]) == 1
    assert len(rig.of.dump("br-int")) == 1  # the flow that used meter 2 went with it
