"""The userspace TSO probe against this machine's ovs-vswitchd (root): OVS 3.1 cuts offloaded
TCP by its output port's MTU and drops offloaded packets into VXLAN (docs/dataplane.md,
"Userspace TSO"), and the probe's namespace, daemons and files are gone afterwards."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from neutrino.agent.l2 import offloads
from neutrino.dataplane import tso_probe
from neutrino.dataplane.offloads import HostOffloads
from neutrino.dataplane.host import ROOT

pytestmark = pytest.mark.root


def test_probe_reads_what_this_vswitchd_does_with_offloaded_tcp():
    line = HostOffloads(ROOT).vswitchd_version()
    version = offloads.parse_version(line)
    if version is None or version[:2] != (3, 1):
        pytest.skip(f"the expected answers are OVS 3.1's; this machine has {line!r}")
    before = set(Path("/tmp").glob("nt-tso-*"))
    found = tso_probe.run(line)
    assert found == tso_probe.ProbeResult(keeps_segment_size=False, tunnels_offloaded=False, version=line)
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert "nt-tsoprobe-" not in netns and set(Path("/tmp").glob("nt-tso-*")) <= before
    decision = offloads.decide(offloads.SwitchFacts(False, version, None, None, False, False))
    assert decision.write_setting is None and "probed: cuts by the output port's MTU" in decision.message
