"""The lab and vm commands as a user types them (``neutrino ...`` processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lab.conftest import unique_name

pytestmark = pytest.mark.root
EXAMPLES = Path(__file__).parents[2] / "examples"


def neutrino(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "neutrino.cli.main", *args],
        capture_output=True, text=True, timeout=120, env=dict(os.environ),
    )  # fmt: skip
    if check:
        assert done.returncode == 0, f"neutrino {' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done


def test_basics():
    done = neutrino("lab", "basics", "--json")
    doc = json.loads(done.stdout)
    assert doc["ok"], doc
    assert [c["name"] for c in doc["checks"]][:3] == [f"ping ns1 → 192.168.10.{i}" for i in (2, 3, 4)]
    assert any(c["name"].startswith("tcp") and c["ok"] for c in doc["checks"])
    assert not [ns for ns in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split() if ns.startswith("basics-")]


def test_up_status_exec_vm_down(lab_root):
    name = unique_name()
    try:
        up = json.loads(neutrino("lab", "up", str(EXAMPLES / "small.yaml"), "--name", name, "--json").stdout)
        assert up["healthy"] and up["name"] == name and up["seconds"] > 0
        st = json.loads(neutrino("lab", "status", "--name", name, "--json").stdout)
        assert st["hosts"][0]["bridges"] == ["br-int", "br-phy", "br-physnet1"] or set(st["hosts"][0]["bridges"]) >= {"br-int"}
        # the server and each host's agents are processes of their own, under the supervisor
        procs = {p["name"]: p for p in st["processes"]}
        assert {"supervisor", "server", "agent-compute1"} <= set(procs)
        assert all(p["health"] == "running" and p["pid"] for p in procs.values()), procs
        assert st["cloud"]["url"].startswith("http://100.") and procs["server"]["node"] == st["hosts"][0]["name"]
        assert "stopped" in neutrino("lab", "agent", "stop", "compute1", "--name", name).stderr
        st = json.loads(neutrino("lab", "status", "--name", name, "--json").stdout)
        assert {p["name"]: p["health"] for p in st["processes"]}["agent-compute1"] == "stopped"
        assert "running, pid" in neutrino("lab", "agent", "start", "compute1", "--name", name).stderr
        # exec reaches the host's own OVS without any option
        assert neutrino("lab", "exec", "--name", name, "compute1", "--", "ovs-vsctl", "br-exists", "br-physnet1").returncode == 0
        assert "br-physnet1" in neutrino("lab", "exec", "--name", name, "compute1", "--", "ovs-vsctl", "list-br").stdout
        vm = json.loads(neutrino("vm", "create", "a", "--host", "compute1", "--mac", "fa:16:3e:00:00:41",
                                 "--ip", "10.5.0.1/24", "--tag", "4", "--lab", name, "--json").stdout)  # fmt: skip
        assert vm["devices"]["qvo"] == "qvo" + vm["port_id"][:11]
        neutrino("vm", "create", "b", "--host", "compute1", "--mac", "fa:16:3e:00:00:42", "--ip", "10.5.0.2/24",
                 "--tag", "4", "--lab", name, "--mtu", "1450")  # fmt: skip
        assert "1450" in neutrino("vm", "exec", "b", "--lab", name, "--", "ip", "link", "show", "eth0").stdout
        assert neutrino("vm", "exec", "a", "--lab", name, "--", "ping", "-c", "2", "-W", "2", "10.5.0.2").returncode == 0
        assert [v["name"] for v in json.loads(neutrino("vm", "list", "--lab", name, "--json").stdout)] == ["a", "b"]
        bad = neutrino("vm", "create", "c", "--host", "nohost", "--mac", "fa:16:3e:00:00:43", "--lab", name, check=False)
        assert bad.returncode == 1 and "has no host 'nohost'" in bad.stderr
        neutrino("vm", "delete", "a", "--lab", name)
        assert neutrino("vm", "exec", "a", "--lab", name, "--", "true", check=False).returncode == 1
    finally:
        down = json.loads(neutrino("lab", "down", "--name", name, "--json").stdout)
    assert f"{name}-compute1" in down["namespaces"] and f"{name}-vm-b" in down["namespaces"]
    assert neutrino("lab", "status", "--name", name, check=False).returncode == 1
