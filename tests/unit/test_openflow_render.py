"""Flows as data: rendering, the bundle difference, and which ovs-ofctl runs (no root, exec faked)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from neutrino.dataplane import openflow
from neutrino.dataplane.errors import CommandFailed, PermanentError, TemporaryError
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.openflow import COOKIE, Flow, OpenFlow, diff_lines, table_text

pytestmark = pytest.mark.unit

C = f"{COOKIE:#x}"
HOST = HostContext("h1", netns="nt-h1", ovs_dir=Path("/tmp/nt-ovs-x"))


def test_cookie_is_one_64_bit_constant() -> None:
    assert 0 < COOKIE < 2**64
    assert Flow(0, 0, "", "drop").cookie == COOKIE


def test_render_with_and_without_match() -> None:
    assert Flow(0, 3, "in_port=int-br-eth1,dl_vlan=100", "mod_vlan_vid:10,NORMAL").render() == (
        f"cookie={C},table=0,priority=3,in_port=int-br-eth1,dl_vlan=100,actions=mod_vlan_vid:10,NORMAL"
    )
    assert Flow(22, 0, "", "drop", cookie=0x1).render() == "cookie=0x1,table=22,priority=0,actions=drop"


def test_key_ignores_actions_and_cookie() -> None:
    assert Flow(4, 1, "tun_id=1000", "drop").key() == Flow(4, 1, "tun_id=1000", "NORMAL", cookie=1).key() == (4, 1, "tun_id=1000")


def test_table_text_is_sorted_and_rejects_two_flows_on_one_key() -> None:
    text = table_text([Flow(2, 0, "", "b"), Flow(0, 1, "", "a")])
    assert text.splitlines() == [f"cookie={C},table=0,priority=1,actions=a", f"cookie={C},table=2,priority=0,actions=b"]
    assert table_text([Flow(0, 1, "", "a"), Flow(0, 1, "", "a")]).count("\n") == 1  # same flow twice is fine
    with pytest.raises(PermanentError):
        table_text([Flow(0, 1, "", "a"), Flow(0, 1, "", "b")])


def test_diff_deletes_strictly_with_our_cookie_then_adds_changes() -> None:
    keep, gone, changed = Flow(0, 0, "", "NORMAL"), Flow(0, 2, "in_port=1", "drop"), Flow(4, 1, "tun_id=1000", "x")
    new = Flow(10, 1, "", "output:1")
    lines = diff_lines([keep, gone, changed], [keep, Flow(4, 1, "tun_id=1000", "y"), new])
    assert lines == [
        f"delete_strict cookie={C}/-1,table=0,priority=2,in_port=1",
        f"add cookie={C},table=4,priority=1,tun_id=1000,actions=y",
        f"add cookie={C},table=10,priority=1,actions=output:1",
    ]
    assert diff_lines([keep, gone], [gone, keep]) == []
    assert diff_lines([], []) == []
    # a cookie change alone is an overwriting add
    assert diff_lines([keep], [Flow(0, 0, "", "NORMAL", cookie=7)]) == ["add cookie=0x7,table=0,priority=0,actions=NORMAL"]


class Recorder:
    def __init__(self, stdout: str = "", fail: CommandFailed | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.stdout, self.fail = stdout, fail

    def __call__(self, argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append({"argv": list(argv), **kw})
        if self.fail:
            raise self.fail
        return subprocess.CompletedProcess(argv, 0, self.stdout, "")


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    rec = Recorder()
    monkeypatch.setattr(openflow.programs, "run", rec)
    return rec


def test_apply_replaces_first_then_sends_only_the_difference(runs: Recorder) -> None:
    of = OpenFlow(HOST)
    table = [Flow(0, 0, "", "NORMAL"), Flow(0, 5, "in_port=p1", "drop")]
    of.apply("br-int", table)
    (call,) = runs.calls
    assert call["argv"] == ["ovs-ofctl", "--timeout=10", "--bundle", "replace-flows", "br-int", "-"]
    assert call["input"] == table_text(table)
    assert call["env"]["OVS_RUNDIR"] == "/tmp/nt-ovs-x"

    assert of.apply("br-int", list(reversed(table))) == []
    assert len(runs.calls) == 1  # no difference: nothing ran

    lines = of.apply("br-int", [table[0]])
    assert runs.calls[-1]["argv"] == ["ovs-ofctl", "--timeout=10", "--bundle", "add-flows", "br-int", "-"]
    assert runs.calls[-1]["input"] == f"delete_strict cookie={C}/-1,table=0,priority=5,in_port=p1\n"
    assert lines == [f"delete_strict cookie={C}/-1,table=0,priority=5,in_port=p1"]

    of.forget("br-int")
    of.apply("br-int", [table[0]])
    assert runs.calls[-1]["argv"][3] == "replace-flows"


def test_failed_apply_forgets_so_the_next_one_replaces(monkeypatch: pytest.MonkeyPatch) -> None:
    of = OpenFlow(HOST)
    monkeypatch.setattr(openflow.programs, "run", Recorder())
    of.apply("br-int", [Flow(0, 0, "", "NORMAL")])
    failing = Recorder(fail=CommandFailed(["ovs-ofctl"], 1, "", "ovs-ofctl: -:1: must specify an action"))
    monkeypatch.setattr(openflow.programs, "run", failing)
    monkeypatch.setattr(openflow.daemons, "alive", lambda pid, expect: True)
    with pytest.raises(PermanentError):
        of.apply("br-int", [Flow(0, 1, "", "")])
    assert "br-int" not in of.applied


@pytest.mark.parametrize(
    ("stderr", "vswitchd_alive", "error"),
    [
        ("ovs-ofctl: /tmp/x/br-int.mgmt: failed to open socket (Connection refused)", True, TemporaryError),
        ("ovs-ofctl: br-int: failed to connect to socket (Connection reset by peer)", True, TemporaryError),
        ("ovs-ofctl: br-x is not a bridge or a socket", True, PermanentError),
        ("ovs-ofctl: br-int is not a bridge or a socket", False, TemporaryError),
        ("Error OFPBAC_BAD_OUT_GROUP for: OFPT_FLOW_MOD (OF1.4)", True, PermanentError),
    ],
)
def test_errors_are_typed(monkeypatch: pytest.MonkeyPatch, stderr: str, vswitchd_alive: bool, error: type) -> None:
    monkeypatch.setattr(openflow.programs, "run", Recorder(fail=CommandFailed(["ovs-ofctl"], 1, "", stderr)))
    monkeypatch.setattr(openflow.daemons, "alive", lambda pid, expect: vswitchd_alive)
    with pytest.raises(error) as caught:
        OpenFlow(HOST).replace("br-int", [])
    assert type(caught.value) is error


def test_dump_and_cookie_count_parse_ofctl_output(monkeypatch: pytest.MonkeyPatch) -> None:
    out = f"OFPST_FLOW reply (OF1.3) (xid=0x2):\n cookie={C}, priority=5,in_port=1 actions=drop\n priority=0 actions=NORMAL\n"
    rec = Recorder(stdout=out)
    monkeypatch.setattr(openflow.programs, "run", rec)
    of = OpenFlow(HOST)
    assert of.dump("br-int") == [f"cookie={C}, priority=5,in_port=1 actions=drop", "priority=0 actions=NORMAL"]
    assert rec.calls[-1]["argv"] == ["ovs-ofctl", "--timeout=10", "dump-flows", "--no-stats", "--names", "br-int"]
    rec.stdout = f" cookie={C}, priority=5,in_port=1 actions=drop\n"
    assert of.cookie_flows("br-int") == 1
    assert rec.calls[-1]["argv"][-1] == f"cookie={C}/-1"
