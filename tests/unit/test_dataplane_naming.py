"""Device and namespace names: Neutron's, within 15 characters."""

from __future__ import annotations

import pytest

from neutrino.dataplane import naming
from neutrino.dataplane.nftables import replace_script
from neutrino.dataplane.errors import PermanentError

pytestmark = pytest.mark.unit
PORT = "1a2b3c4d-5e6f-7a8b-9c0d-e1f2a3b4c5d6"


def test_hybrid_devices():
    assert naming.hybrid_devices(PORT) == {
        "tap": "tap1a2b3c4d-5e",
        "qbr": "qbr1a2b3c4d-5e",
        "qvb": "qvb1a2b3c4d-5e",
        "qvo": "qvo1a2b3c4d-5e",
    }
    assert naming.device(naming.QR, PORT) == "qr-1a2b3c4d-5e"
    assert naming.device(naming.QG, PORT) == "qg-1a2b3c4d-5e"


def test_namespaces_and_tunnels():
    assert naming.dhcp_namespace("n1") == "qdhcp-n1"
    assert naming.router_namespace("r1", "seed-network-") == "seed-network-qrouter-r1"
    assert naming.tunnel_port("vxlan", "172.31.0.3") == "vxlan-ac1f0003"
    assert len(naming.tunnel_port("geneve", "fd00::1")) <= 15
    assert naming.patch_ports("br-physnet1") == ("int-br-physnet1", "phy-br-physnet1")
    assert naming.physnet_bridge("physnet1") == "br-physnet1"


@pytest.mark.parametrize("name", ["", "a" * 16, "a/b", "a b"])
def test_bad_interface_names(name):
    with pytest.raises(ValueError):
        naming.check_ifname(name)


def test_nft_script_replaces_the_whole_owned_table():
    script = replace_script("inet", "neutrino-nat", "chain post { type nat hook postrouting priority 100; }")
    assert script.splitlines()[:3] == ["table inet neutrino-nat", "delete table inet neutrino-nat", "table inet neutrino-nat {"]
    with pytest.raises(PermanentError, match="not a neutrino table"):
        replace_script("inet", "filter", "")
    with pytest.raises(PermanentError, match="unknown family"):
        replace_script("ipx", "neutrino-x", "")
