"""ovs-vsctl transactions as data, and parsing of captured ``--format=json`` output (no root)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from neutrino.dataplane import ovsdb
from neutrino.dataplane.errors import CommandFailed, PermanentError, TemporaryError
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.openflow import PROTOCOLS
from neutrino.dataplane.ovsdb import AddPort, BridgeInfo, Ovsdb, PortInfo, atom, decode, join_ports, parse_tables

pytestmark = pytest.mark.unit

HOST = HostContext("h1", netns="nt-h1", ovs_dir=Path("/tmp/nt-ovs-x"))
BASE = ["ovs-vsctl", "--db=unix:/tmp/nt-ovs-x/db.sock", "--timeout=10"]

# captured from ovs-vsctl 3.1 (Bridge.ports with several ports, and with one: a bare uuid)
BRIDGES = (
    '{"data":[["br-int",["set",[["uuid","32712acd-9e0a-4803-849d-63d3d65b2b8b"],["uuid","7b2f0d6a-e1b6-4f97-a165-8d9089ce4046"]]]],'
    '["br-old",["uuid","119f8dd4-5b6a-4c61-b6c3-6763b37bc298"]]],"headings":["name","ports"]}'
)
PORTS = (
    '{"data":[[["uuid","7b2f0d6a-e1b6-4f97-a165-8d9089ce4046"],"p1",10,["map",[["net_uuid","abc"],["segmentation_id","100"]]],'
    '["uuid","fc1f80b0-25f9-43c6-a2f7-db9d0cc3b284"]],'
    '[["uuid","32712acd-9e0a-4803-849d-63d3d65b2b8b"],"p2",["set",[]],["map",[]],["uuid","104baae5-5e9f-4812-b332-2e7b1dac08a5"]]],'
    '"headings":["_uuid","name","tag","other_config","interfaces"]}'
)
IFACES = (
    '{"data":[[["uuid","fc1f80b0-25f9-43c6-a2f7-db9d0cc3b284"],"p1","internal",["map",[]],["map",[["iface-id","x"]]],1],'
    '[["uuid","104baae5-5e9f-4812-b332-2e7b1dac08a5"],"p2","patch",["map",[["peer","foo"]]],["map",[]],["set",[]]]],'
    '"headings":["_uuid","name","type","options","external_ids","ofport"]}'
)
BRIDGE = (
    '{"data":[["br-int","netdev",["map",[["a","b"]]],["set",[]],["map",[]],["set",["OpenFlow10","OpenFlow13","OpenFlow14"]]]],'
    '"headings":["name","datapath_type","external_ids","fail_mode","other_config","protocols"]}'
)


def test_atoms_are_bare_when_plain_else_json_quoted() -> None:
    assert atom("physnet1") == "physnet1"
    assert atom("172.31.0.3") == "172.31.0.3"
    assert atom("a:b") == '"a:b"'
    assert atom("") == '""'
    assert atom('x "y"') == '"x \\"y\\""'


def test_transaction_is_one_vsctl_argv() -> None:
    tx = Ovsdb(HOST).transaction()
    tx.add_bridge("br-int", datapath_type="netdev", fail_mode="secure", protocols=PROTOCOLS, external_ids={"k": "v"})
    tx.add_port("br-int", "qvo1", tag=10, port_other_config={"segmentation_id": 100, "gone": None},
                iface_external_ids={"iface-id": "p-1", "attached-mac": "fa:16:3e:00:01:11"})  # fmt: skip
    tx.add_port("br-int", "patch-tun", iface_type="patch", options={"peer": "patch-int"}, may_exist=False)
    assert tx.argv() == [
        *BASE,
        "--", "--may-exist", "add-br", "br-int",
        "--", "set", "Bridge", "br-int", "datapath_type=netdev", "fail_mode=secure",
        "protocols=[OpenFlow10,OpenFlow13,OpenFlow14]", "external_ids:k=v",
        "--", "--may-exist", "add-port", "br-int", "qvo1",
        "--", "set", "Port", "qvo1", "tag=10", "other_config:segmentation_id=100",
        "--", "remove", "Port", "qvo1", "other_config", "gone",
        "--", "set", "Interface", "qvo1", "external_ids:iface-id=p-1", 'external_ids:attached-mac="fa:16:3e:00:01:11"',
        "--", "add-port", "br-int", "patch-tun",
        "--", "set", "Interface", "patch-tun", "type=patch", "options:peer=patch-int",
    ]  # fmt: skip


def test_delete_and_set_commands() -> None:
    tx = Ovsdb(HOST, wait=False).transaction()
    tx.del_port("qvo1").del_port("qvo2", bridge="br-int", if_exists=False).del_bridge("br-x")
    tx.set_port("qvo3", tag=None).set_port("qvo4", tag=11, other_config={"tag": "11"}).set_port("qvo5", other_config={"a": "b"})
    tx.set_interface("qvo6", external_ids={"iface-status": "active"}, options={"peer": None})
    assert tx.argv() == [
        *BASE, "--no-wait",
        "--", "--if-exists", "del-port", "qvo1",
        "--", "del-port", "br-int", "qvo2",
        "--", "--if-exists", "del-br", "br-x",
        "--", "clear", "Port", "qvo3", "tag",
        "--", "set", "Port", "qvo4", "tag=11", "other_config:tag=11",
        "--", "set", "Port", "qvo5", "other_config:a=b",
        "--", "set", "Interface", "qvo6", "external_ids:iface-status=active",
        "--", "remove", "Interface", "qvo6", "options", "peer",
    ]  # fmt: skip


def test_commands_are_data() -> None:
    tx = Ovsdb(HOST).transaction().add_port("br-int", "qvo1", tag=5)
    assert tx.commands == [AddPort("br-int", "qvo1", tag=5)]


def test_decode_ovsdb_json() -> None:
    assert decode(["map", [["a", "1"]]]) == {"a": "1"}
    assert decode(["set", [["uuid", "u1"], ["uuid", "u2"]]]) == ["u1", "u2"]
    assert decode(["uuid", "u1"]) == "u1"
    assert decode(["set", []]) == []
    assert decode(7) == 7


def test_parse_and_join_ports() -> None:
    bridges, ports, ifaces = parse_tables("\n".join([BRIDGES, PORTS, IFACES]) + "\n")
    assert join_ports(bridges, ports, ifaces) == [
        PortInfo("p1", "br-int", 10, {"net_uuid": "abc", "segmentation_id": "100"}, "internal", {}, {"iface-id": "x"}, 1),
        PortInfo("p2", "br-int", None, {}, "patch", {"peer": "foo"}, {}, None),
    ]


class Recorder:
    def __init__(self, stdout: str = "", fail: Exception | None = None) -> None:
        self.calls: list[list[str]] = []
        self.stdout, self.fail = stdout, fail

    def __call__(self, argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        if self.fail:
            raise self.fail
        return subprocess.CompletedProcess(argv, 0, self.stdout, "")


def test_reads_are_one_process_in_json(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder("\n".join([BRIDGES, PORTS, IFACES]))
    monkeypatch.setattr(ovsdb.programs, "run", rec)
    db = Ovsdb(HOST)
    assert [p.name for p in db.find_ports(net_uuid="abc")] == ["p1", "p2"]  # the filter is ovs-vsctl's job
    assert rec.calls[-1][:5] == [*BASE, "--no-wait", "--format=json"]
    assert "other_config:net_uuid=abc" in rec.calls[-1]
    rec.stdout = BRIDGE
    assert db.bridge("br-int") == BridgeInfo("br-int", "netdev", None, {"a": "b"}, {}, ("OpenFlow10", "OpenFlow13", "OpenFlow14"))
    rec.stdout = '{"data":[],"headings":["name"]}'
    assert db.bridge("nope") is None


def test_transaction_commits_once_on_success_and_not_on_error(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    monkeypatch.setattr(ovsdb.programs, "run", rec)
    db = Ovsdb(HOST)
    with pytest.raises(RuntimeError):
        with db.transaction() as tx:
            tx.add_bridge("br-int")
            raise RuntimeError("boom")
    assert rec.calls == []
    with db.transaction() as tx:
        tx.add_bridge("br-int")
        tx.commit()
    assert len(rec.calls) == 1
    with db.transaction():
        pass  # empty: nothing runs
    assert len(rec.calls) == 1


@pytest.mark.parametrize(
    ("returncode", "stderr", "error"),
    [
        (1, "ovs-vsctl: no bridge named br-x", PermanentError),
        (1, 'ovs-vsctl: no row "nosuch" in table Port', PermanentError),
        (1, "ovs-vsctl: unix:/tmp/x/db.sock: database connection failed (No such file or directory)", TemporaryError),
        (-14, "fatal_signal|WARN|terminating with signal 14 (Alarm clock)", TemporaryError),
    ],
)
def test_errors_are_typed(monkeypatch: pytest.MonkeyPatch, returncode: int, stderr: str, error: type) -> None:
    monkeypatch.setattr(ovsdb.programs, "run", Recorder(fail=CommandFailed(["ovs-vsctl"], returncode, "", stderr)))
    with pytest.raises(error) as caught:
        Ovsdb(HOST).transaction().add_port("br-x", "p").commit()
    assert type(caught.value) is error
    assert "ovs-vsctl: " not in caught.value.detail[:11]
