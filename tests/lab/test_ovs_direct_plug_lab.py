"""OVS agents with the noop firewall: the binding says ``ovs_hybrid_plug`` False and the lab
plugs each instance's tap straight on br-int (no qbr, qvb, qvo), as os-vif does. Real TCP on a
VLAN and a VXLAN network between two computes, and an agent restart under a running stream."""

from __future__ import annotations

import pytest

from neutrino.dataplane.netlink import Netlink
from neutrino.dataplane.ovsdb import Ovsdb
from neutrino.lab import instances, probes
from tests.lab.cloud_support import cloud_lab, ip_of, restart_agent_under_a_stream

pytestmark = pytest.mark.root


@pytest.fixture(scope="module")
def cl(lab_root):
    with cloud_lab(lab_root, agent_settings={"firewall": False}) as c:
        yield c


def test_taps_on_br_int_carry_tcp_on_vlan_and_vxlan_and_survive_an_agent_restart(cl):
    vlan = cl.network("dp-vlan", "10.81.0.0/24", **{"provider:network_type": "vlan",
                      "provider:physical_network": "physnet1", "provider:segmentation_id": 181})  # fmt: skip
    vx = cl.network("dp-vx", "10.82.0.0/24")
    pairs = [(cl.vm(f"{n}a", net["id"], "compute1"), cl.vm(f"{n}b", net["id"], "compute2")) for n, net in (("dl", vlan), ("dx", vx))]
    c1 = cl.lab.host("compute1")
    ovsdb = Ovsdb(c1.context)
    for a, b in pairs:
        details = cl.api.request("GET", f"ports/{a.port_id}")["port"]["binding:vif_details"]
        assert details["ovs_hybrid_plug"] is False and set(a.devices) == {"tap"}
        port = ovsdb.port(a.devices["tap"])
        assert port is not None and port.bridge == "br-int" and port.tag not in (None, 4095)
        with Netlink() as netlink:
            assert netlink.link("qbr" + a.port_id[:11], netns=c1.netns) is None
        check = probes.transfer(a.netns, b.netns, ip_of(b))
        assert check.ok, check
    a, b = pairs[1]
    tags_before = {p.name: p.tag for p in ovsdb.find_ports() if p.name.startswith("tap")}
    restart_agent_under_a_stream(cl, a, b)
    assert {p.name: p.tag for p in ovsdb.find_ports() if p.name.startswith("tap")} == tags_before
    instances.delete(cl.lab, a.name)
    assert ovsdb.port(a.devices["tap"]) is None
