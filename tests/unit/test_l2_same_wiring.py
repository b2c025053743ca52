"""``agent/l2/same_wiring.py``: which desired-state changes leave OVS as it is (pure)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from neutrino.agent.l2.same_wiring import same_wiring
from neutrino.contract import desired as c

pytestmark = pytest.mark.unit

RULE = c.SecurityRule("web", "ingress", "IPv4", None, None, None, (), remote_group_id="web")
PORT = c.BoundPort(port_id="p1", network_id="n1", mac_address="fa:16:3e:00:00:01", admin_state_up=True,
                   device_owner="compute:nova", device_id="vm", vif_type="ovs", segment=c.Segment("vlan", "physnet1", 5, 1500),
                   fixed_ips=(c.FixedIP("s1", "10.0.0.5", "10.0.0.0/24", None),), port_security_enabled=True,
                   security_groups=("web",), rules=(RULE,), allowed_address_pairs=(), revision_number=3)  # fmt: skip
STATE = c.DesiredHostState(host="h", ports=(PORT,), remote_groups=(c.RemoteGroup("web", ("10.0.0.5",), ()),),
                           tunnel_peers=(c.TunnelPeer("h2", "vxlan", "172.31.0.3", ("n1",)),))  # fmt: skip


def test_members_and_rules_leave_the_wiring_alone():
    assert same_wiring(STATE, STATE)
    assert same_wiring(STATE, replace(STATE, remote_groups=(c.RemoteGroup("web", ("10.0.0.5", "10.0.0.6"), ()),)))
    assert same_wiring(STATE, replace(STATE, ports=(replace(PORT, rules=()),)))
    assert same_wiring(STATE, replace(STATE, ports=(replace(PORT, rules=(RULE,)),)))  # an equal copy


@pytest.mark.parametrize("change", [
    {"ports": (replace(PORT, admin_state_up=False),)},
    {"ports": (replace(PORT, rules=(), revision_number=4),)},
    {"ports": (replace(PORT, segment=c.Segment("vlan", "physnet1", 6, 1500)),)},
    {"ports": (replace(PORT, qos=c.QosLimits(egress_kbps=1000)),)},
    {"ports": (PORT, replace(PORT, port_id="p2"))},
    {"ports": ()},
    {"tunnel_peers": ()},
    {"remote_ports": (c.RemotePort("n1", "fa:16:3e:00:00:09", ("10.0.0.9",), "172.31.0.3"),)},
    {"trunks": (c.TrunkState("t1", "p1", "fa:16:3e:00:00:01", True, ()),)},
    {"local_tunnel_ip": "172.31.0.2"},
])  # fmt: skip
def test_anything_else_is_a_wiring_change(change):
    assert not same_wiring(STATE, replace(STATE, **change))
