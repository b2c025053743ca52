"""The raw link dump (``dataplane/link_dump.py``) agrees with pyroute2's, in a namespace (root)."""

from __future__ import annotations

import secrets

import pytest

from neutrino.dataplane.netlink import Netlink
from tests.integration.ovs_fixtures import require_root_ovs

pytestmark = pytest.mark.root


def test_names_and_macs_match_pyroute2_in_a_namespace() -> None:
    require_root_ovs()
    netlink, ns = Netlink(), f"nt-ld-{secrets.token_hex(4)}"
    netlink.add_netns(ns)
    try:
        for i in range(3):
            netlink.add_veth(f"ldA{i}", f"ldB{i}", netns=ns)
        expected = {link.name: link.address or "" for link in netlink.links(netns=ns)}
        assert netlink.link_addresses(netns=ns) == expected
        assert {"lo", "ldA0", "ldB2"} <= set(expected) and expected["ldA0"].count(":") == 5
    finally:
        netlink.del_netns(ns)
