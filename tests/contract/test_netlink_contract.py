"""One suite, two implementations: the in-memory fake must behave like the real netlink adapter.

The real variant runs in namespaces this test creates (``nt-<random>-*``) and removes them,
even when a test fails; it never creates anything in the root namespace.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from neutrino.dataplane.errors import DataplaneError, PermanentError
from neutrino.dataplane.fake import FakeNetlink


@pytest.fixture(params=[pytest.param("fake", marks=pytest.mark.unit), pytest.param("real", marks=pytest.mark.root)])
def world(request: Any) -> Iterator[tuple[Any, str, str]]:
    """(adapter, namespace a, namespace b), both created empty."""
    tag = f"nt-{uuid.uuid4().hex[:6]}"
    a, b = f"{tag}-a", f"{tag}-b"
    if request.param == "fake":
        netlink: Any = FakeNetlink()
    else:
        from neutrino.dataplane.netlink import Netlink

        netlink = Netlink()
    try:
        netlink.add_netns(a)
        netlink.add_netns(b)
        yield netlink, a, b
    finally:
        for ns in (a, b):
            netlink.del_netns(ns)
        netlink.close()


def _eventually(check: Any, timeout: float = 30.0) -> bool:  # bounds a failure only
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_namespaces_idempotent(world):
    netlink, a, _b = world
    netlink.add_netns(a)  # may_exist
    assert a in netlink.list_netns()
    with pytest.raises(DataplaneError) as exc:
        netlink.add_netns(a, may_exist=False)
    assert exc.value.errno == 17
    netlink.del_netns(a + "-missing")  # if_exists
    with pytest.raises(DataplaneError):
        netlink.del_netns(a + "-missing", if_exists=False)


def test_veth_across_namespaces_lives_and_dies_as_a_pair(world):
    netlink, a, b = world
    netlink.add_veth("x0", "y0", netns=a, peer_netns=b, mtu=1450)
    netlink.add_veth("x0", "y0", netns=a, peer_netns=b)  # may_exist
    assert netlink.link("x0", netns=a).kind == "veth"
    assert netlink.link("y0", netns=b).mtu == 1450
    assert netlink.link("y0", netns=a) is None
    netlink.del_link("x0", netns=a)
    assert _eventually(lambda: netlink.link("y0", netns=b) is None)
    netlink.del_link("x0", netns=a)  # if_exists
    with pytest.raises(DataplaneError) as exc:
        netlink.del_link("x0", netns=a, if_exists=False)
    assert exc.value.errno == 19


def test_bridge_ports_addresses_routes(world):
    netlink, a, _b = world
    netlink.add_bridge("br0", netns=a)
    netlink.add_veth("p0", "q0", netns=a)
    netlink.set_link("p0", netns=a, master="br0", up=True)
    netlink.set_link("br0", netns=a, up=True, address="fa:16:3e:00:00:aa")
    assert netlink.link("p0", netns=a).master == "br0" and netlink.link("p0", netns=a).up
    assert netlink.link("br0", netns=a).address == "fa:16:3e:00:00:aa"
    netlink.set_link("p0", netns=a, master="")
    assert netlink.link("p0", netns=a).master is None
    netlink.set_link("q0", netns=a, up=True)
    netlink.add_address("q0", "10.1.0.5/24", netns=a)
    netlink.add_address("q0", "10.1.0.5/24", netns=a)  # idempotent
    assert netlink.addresses("q0", netns=a) == ["10.1.0.5/24"]
    netlink.replace_route("default", gateway="10.1.0.1", netns=a)
    netlink.replace_route("default", gateway="10.1.0.254", netns=a)
    assert {"dst": "default", "gateway": "10.1.0.254"} in netlink.routes(netns=a)
    netlink.del_address("q0", "10.1.0.5/24", netns=a)
    assert netlink.addresses("q0", netns=a) == []
    netlink.del_link("br0", netns=a)
    assert netlink.link("p0", netns=a).master is None


def test_deleting_a_namespace_removes_the_peer_outside_it(world):
    netlink, a, b = world
    netlink.add_veth("x1", "y1", netns=a, peer_netns=b)
    netlink.del_netns(a)
    assert _eventually(lambda: netlink.link("y1", netns=b) is None)


def test_typed_errors(world):
    netlink, a, _b = world
    with pytest.raises(DataplaneError) as exc:
        netlink.set_link("nope", netns=a, up=True)
    assert exc.value.errno == 19 and not exc.value.temporary
    with pytest.raises(ValueError):
        netlink.add_bridge("a-name-longer-than-15", netns=a)
    with pytest.raises(PermanentError, match="root namespace"):
        netlink.set_sysctl("net.ipv4.ip_forward", 1, netns=None)
    with pytest.raises(PermanentError, match="no such namespace"):
        netlink.links(netns=a + "-missing")


def test_sysctls_are_per_namespace(world):
    netlink, a, b = world
    netlink.set_sysctl("net.ipv4.ip_forward", 1, netns=a)
    assert netlink.get_sysctl("net.ipv4.ip_forward", netns=a) == "1"
    assert netlink.get_sysctl("net.ipv4.ip_forward", netns=b) == "0"


def test_no_ipv6_link_local_on_one_device(world):
    netlink, a, _b = world
    netlink.add_veth("s0", "t0", netns=a)
    netlink.disable_ipv6_link_local("s0", netns=a)  # before it comes up: no link-local address
    assert netlink.get_sysctl("net.ipv6.conf.s0.addr_gen_mode", netns=a) == "1"
    with pytest.raises(DataplaneError):  # a missing key (no such device) is a typed error
        netlink.disable_ipv6_link_local("nope0", netns=a)


def test_tx_checksum_off_and_route_deletion(world):
    netlink, a, _b = world
    netlink.add_veth("c0", "d0", netns=a)
    netlink.disable_tx_checksum("c0", netns=a)
    netlink.disable_tx_checksum("c0", netns=a)  # idempotent
    with pytest.raises(DataplaneError):
        netlink.disable_tx_checksum("nope0", netns=a)
    netlink.set_link("c0", netns=a, up=True)
    netlink.set_link("d0", netns=a, up=True)
    netlink.add_address("c0", "10.2.0.5/24", netns=a)
    netlink.replace_route("192.168.9.0/24", gateway="10.2.0.1", netns=a)
    assert {"dst": "192.168.9.0/24", "gateway": "10.2.0.1"} in netlink.routes(netns=a)
    netlink.del_route("192.168.9.0/24", gateway="10.2.0.1", netns=a)
    netlink.del_route("192.168.9.0/24", gateway="10.2.0.1", netns=a)  # absent is fine
    assert {"dst": "192.168.9.0/24", "gateway": "10.2.0.1"} not in netlink.routes(netns=a)


def test_tx_checksum_both_ways_and_link_indexes(world):
    netlink, a, _b = world
    netlink.add_veth("e0", "f0", netns=a)
    assert netlink.set_tx_checksum("e0", False, netns=a) is True
    assert netlink.set_tx_checksum("e0", False, netns=a) is False  # already off: nothing written
    assert netlink.set_tx_checksum("e0", True, netns=a) is True
    assert netlink.set_tx_checksum("nope0", True, netns=a) is None
    first = netlink.link_indexes(netns=a)
    assert {"lo", "e0", "f0"} <= set(first)
    netlink.del_link("e0", netns=a)
    netlink.add_veth("e0", "f0", netns=a)
    assert netlink.link_indexes(netns=a)["e0"] != first["e0"]  # a recreated device has a new index
