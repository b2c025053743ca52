"""AF_XDP ports on a real vswitchd (docs/dataplane.md, "AF_XDP ports"): what the lab reads
before it asks for one (``iface_types``) and what it does when vswitchd cannot open one."""

from __future__ import annotations

import pytest

from neutrino.agent.l2.ovs_port_types import AFXDP, AFXDP_OPTIONS
from neutrino.dataplane import exec as programs
from neutrino.dataplane.offloads import HostOffloads
from neutrino.dataplane.ovsdb import Ovsdb
from neutrino.lab import ovs_port_plug
from tests.integration.ovs_fixtures import ovs_host  # noqa: F401 - fixture

pytestmark = pytest.mark.root


def test_iface_types_and_a_port_vswitchd_cannot_open_goes_back_to_af_packet(ovs_host):  # noqa: F811
    adapter = HostOffloads(ovs_host)
    types = adapter.iface_types()
    assert {"system", "internal", "patch"} <= types  # what every vswitchd offers
    if AFXDP not in types:
        pytest.skip(f"this ovs-vswitchd has no {AFXDP} ports (built without AF_XDP)")
    programs.run(["ip", "-n", ovs_host.netns, "link", "add", "afx0", "type", "veth", "peer", "name", "afx1"])
    programs.run(["ip", "-n", ovs_host.netns, "link", "set", "afx0", "up"])
    with Ovsdb(ovs_host).transaction() as txn:
        txn.add_bridge("br-test", datapath_type="netdev")
        txn.add_port("br-test", "afx0", iface_type=AFXDP, options=AFXDP_OPTIONS)
        txn.add_port("br-test", "gone0", iface_type=AFXDP, options=AFXDP_OPTIONS)  # no such device
    assert adapter.interface_errors(["afx0"]) == {}
    assert ovs_port_plug.fall_back(type("Host", (), {"name": "t", "context": ovs_host})(), ["afx0", "gone0"]) == ["gone0"]
    ovsdb = Ovsdb(ovs_host)
    assert (ovsdb.port("afx0").iface_type, ovsdb.port("afx0").iface_options) == (AFXDP, AFXDP_OPTIONS)
    assert (ovsdb.port("gone0").iface_type, ovsdb.port("gone0").iface_options) == ("system", {})
