"""Where `lab status` and `lab logs` find a lab's logs: by looking at its state directory."""

from __future__ import annotations

import pytest

from neutrino.lab import logs, topology
from neutrino.lab import resolve

pytestmark = pytest.mark.unit


def test_logs_by_host_and_server(tmp_path):
    lab = resolve.resolve(topology.default_lab(), name="logs", detected_datapath="netdev", root=tmp_path)
    (lab.state_dir / "compute1" / "ovs").mkdir(parents=True)
    (lab.state_dir / "compute1" / "ovs" / "ovs-vswitchd.log").write_text("x\n")
    (lab.state_dir / "network" / "dhcp" / "net-1").mkdir(parents=True)
    (lab.state_dir / "network" / "dhcp" / "net-1" / "dnsmasq.log").write_text("x\n")
    (lab.state_dir / "server.log").write_text("x\n")
    found = logs.paths(lab)
    assert found["server"] == [str(lab.state_dir / "server.log")]
    assert found["compute1"] == [str(lab.state_dir / "compute1" / "ovs" / "ovs-vswitchd.log")]
    assert found["network"][0].endswith("dnsmasq.log") and found["compute2"] == []
    assert len(logs.select(lab, None)) == 3
    with pytest.raises(LookupError, match="no host 'nohost'"):
        logs.select(lab, "nohost")
