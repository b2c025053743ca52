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
        nl: Any = FakeNetlink()
    else:
        from neutrino.dataplane.netlink import Netlink

        nl = Netlink()
    try:
        nl.add_netns(a)
        nl.add_netns(b)
        yield nl, a, b
    finally:
        for ns in (a, b):
            nl.del_netns(ns)
        nl.close()


def _eventually(check: Any, timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_namespaces_idempotent(world):
    nl, a, _b = world
    nl.add_netns(a)  # may_exist
    assert a in nl.list_netns()
    with pytest.raises(DataplaneError) as exc:
        nl.add_netns(a, may_exist=False)
    assert exc.value.errno == 17
    nl.del_netns(a + "-missing")  # if_exists
    with pytest.raises(DataplaneError):
        nl.del_netns(a + "-missing", if_exists=False)


def test_veth_across_namespaces_lives_and_dies_as_a_pair(world):
    nl, a, b = world
    nl.add_veth("x0", "y0", netns=a, peer_netns=b, mtu=1450)
    nl.add_veth("x0", "y0", netns=a, peer_netns=b)  # may_exist
    assert nl.link("x0", netns=a).kind == "veth"
    assert nl.link("y0", netns=b).mtu == 1450
    assert nl.link("y0", netns=a) is None
    nl.del_link("x0", netns=a)
    assert _eventually(lambda: nl.link("y0", netns=b) is None)
    nl.del_link("x0", netns=a)  # if_exists
    with pytest.raises(DataplaneError) as exc:
        nl.del_link("x0", netns=a, if_exists=False)
    assert exc.value.errno == 19


def test_bridge_ports_addresses_routes(world):
    nl, a, _b = world
    nl.add_bridge("br0", netns=a)
    nl.add_veth("p0", "q0", netns=a)
    nl.set_link("p0", netns=a, master="br0", up=True)
    nl.set_link("br0", netns=a, up=True, address="fa:16:3e:00:00:aa")
    assert nl.link("p0", netns=a).master == "br0" and nl.link("p0", netns=a).up
    assert nl.link("br0", netns=a).address == "fa:16:3e:00:00:aa"
    nl.set_link("p0", netns=a, master="")
    assert nl.link("p0", netns=a).master is None
    nl.set_link("q0", netns=a, up=True)
    nl.add_address("q0", "10.1.0.5/24", netns=a)
    nl.add_address("q0", "10.1.0.5/24", netns=a)  # idempotent
    assert nl.addresses("q0", netns=a) == ["10.1.0.5/24"]
    nl.replace_route("default", gateway="10.1.0.1", netns=a)
    nl.replace_route("default", gateway="10.1.0.254", netns=a)
    assert {"dst": "default", "gateway": "10.1.0.254"} in nl.routes(netns=a)
    nl.del_address("q0", "10.1.0.5/24", netns=a)
    assert nl.addresses("q0", netns=a) == []
    nl.del_link("br0", netns=a)
    assert nl.link("p0", netns=a).master is None


def test_deleting_a_namespace_removes_the_peer_outside_it(world):
    nl, a, b = world
    nl.add_veth("x1", "y1", netns=a, peer_netns=b)
    nl.del_netns(a)
    assert _eventually(lambda: nl.link("y1", netns=b) is None)


def test_typed_errors(world):
    nl, a, _b = world
    with pytest.raises(DataplaneError) as exc:
        nl.set_link("nope", netns=a, up=True)
    assert exc.value.errno == 19 and not exc.value.temporary
    with pytest.raises(ValueError):
        nl.add_bridge("a-name-longer-than-15", netns=a)
    with pytest.raises(PermanentError, match="root namespace"):
        nl.set_sysctl("net.ipv4.ip_forward", 1, netns=None)
    with pytest.raises(PermanentError, match="no such namespace"):
        nl.links(netns=a + "-missing")


def test_sysctls_are_per_namespace(world):
    nl, a, b = world
    nl.set_sysctl("net.ipv4.ip_forward", 1, netns=a)
    assert nl.get_sysctl("net.ipv4.ip_forward", netns=a) == "1"
    assert nl.get_sysctl("net.ipv4.ip_forward", netns=b) == "0"
