"""nftables tables replaced whole, per namespace: the fake and the real ``nft`` agree.

The real variant works in a namespace of its own; the root namespace's ruleset is never read
or written."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from neutrino.dataplane.errors import DataplaneError, PermanentError
from neutrino.dataplane.fake import FakeNetlink, FakeNftables

BODY_V1 = """
chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 10.0.1.0/24 oifname "qg-x" snat to 198.51.100.10
}
"""
BODY_V2 = """
chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr 198.51.100.20 dnat to 10.0.1.11
}
"""


@pytest.fixture(params=[pytest.param("fake", marks=pytest.mark.unit), pytest.param("real", marks=pytest.mark.root)])
def nft(request: Any) -> Iterator[tuple[Any, str]]:
    ns = f"nt-{uuid.uuid4().hex[:6]}-nft"
    if request.param == "fake":
        netlink: Any = FakeNetlink()
        adapter: Any = FakeNftables(netlink)
    else:
        from neutrino.dataplane.netlink import Netlink
        from neutrino.dataplane.nftables import Nftables

        netlink, adapter = Netlink(), Nftables()
    try:
        netlink.add_netns(ns)
        yield adapter, ns
    finally:
        netlink.del_netns(ns)
        netlink.close()


def test_replace_whole_table(nft):
    adapter, ns = nft
    assert adapter.list_tables(netns=ns) == []
    adapter.apply_table("ip", "neutrino-nat", BODY_V1, netns=ns)
    adapter.apply_table("ip", "neutrino-nat", BODY_V1, netns=ns)  # idempotent
    assert adapter.list_tables(netns=ns) == [("ip", "neutrino-nat")]
    assert "snat to 198.51.100.10" in adapter.table("ip", "neutrino-nat", netns=ns)
    adapter.apply_table("ip", "neutrino-nat", BODY_V2, netns=ns)
    text = adapter.table("ip", "neutrino-nat", netns=ns)
    assert "dnat to 10.0.1.11" in text and "snat" not in text  # nothing of the old content survives
    adapter.delete_table("ip", "neutrino-nat", netns=ns)
    adapter.delete_table("ip", "neutrino-nat", netns=ns)  # idempotent
    assert adapter.list_tables(netns=ns) == [] and adapter.table("ip", "neutrino-nat", netns=ns) is None


def test_refuses_foreign_tables_and_bad_namespaces(nft):
    adapter, ns = nft
    with pytest.raises(PermanentError, match="not a neutrino table"):
        adapter.apply_table("ip", "nat", BODY_V1, netns=ns)
    with pytest.raises(DataplaneError):
        adapter.apply_table("ip", "neutrino-nat", BODY_V1, netns=ns + "-missing")


def test_several_tables_in_one_script(nft):
    adapter, ns = nft
    adapter.apply_table("inet", "neutrino-scope", "chain forward {\n}\n", netns=ns)
    adapter.apply_tables({("ip", "neutrino-nat"): BODY_V1, ("inet", "neutrino-scope"): None,
                          ("inet", "neutrino-cthelper"): None}, netns=ns)  # fmt: skip
    assert adapter.list_tables(netns=ns) == [("ip", "neutrino-nat")]  # deleted whether there or not
    adapter.apply_tables({}, netns=ns)
    with pytest.raises(PermanentError, match="not a neutrino table"):
        adapter.apply_tables({("ip", "neutrino-nat"): BODY_V2, ("ip", "nat"): None}, netns=ns)
    assert "snat to 198.51.100.10" in adapter.table("ip", "neutrino-nat", netns=ns)  # nothing applied
