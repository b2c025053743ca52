"""An in-memory ``kernel_vxlan.KernelVxlan`` over ``fake.FakeNetlink``, for unit tests.

VXLAN and VLAN devices are links of the fake kernel (so bridges, masters and deletion behave
as there); the FDB and neighbour entries live on the device and vanish with it, as the
kernel's do. ``calls`` counts the writes, so a test can tell that a pass changed nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from neutrino.dataplane.errors import PermanentError
from neutrino.dataplane.fake import FakeNetlink, _new_link


class FakeVxlan:
    def __init__(self, netlink: FakeNetlink, vlan: bool = False) -> None:
        self.netlink = netlink
        self.vlan = vlan
        self.devices: dict[tuple[str | None, str], tuple[int, str | None]] = {}
        self.fdb_entries: dict[tuple[str | None, str], set[tuple[str, str]]] = {}
        self.neigh_entries: dict[tuple[str | None, str], set[tuple[str, str]]] = {}
        self.calls = 0

    def _live(self, netns: str | None) -> set[str]:
        return {link.name for link in self.netlink.links(netns=netns)}

    def vxlan_devices(self, *, netns: str | None) -> dict[str, tuple[int, str | None]]:
        live = self._live(netns)
        return {name: v for (ns, name), v in self.devices.items() if ns == netns and name in live}

    def fdb(self, *, netns: str | None) -> dict[str, frozenset[tuple[str, str]]]:
        live = set(self.vxlan_devices(netns=netns))
        return {n: frozenset(v) for (ns, n), v in self.fdb_entries.items() if ns == netns and n in live and v}

    def neighbours(self, *, netns: str | None) -> dict[str, frozenset[tuple[str, str]]]:
        live = set(self.vxlan_devices(netns=netns))
        return {n: frozenset(v) for (ns, n), v in self.neigh_entries.items() if ns == netns and n in live and v}

    def add_vxlan(self, name: str, vni: int, local_ip: str, *, mtu: int | None, proxy: bool = True, netns: str | None) -> None:
        have = self.vxlan_devices(netns=netns).get(name)
        if have == (vni, local_ip):
            return
        if have is not None or name in self._live(netns):
            raise PermanentError("add vxlan", name, "exists")
        self.calls += 1
        self.netlink._ns(netns).links[name] = _new_link(name, "vxlan", mtu)
        self.devices[(netns, name)] = (vni, local_ip)
        self.fdb_entries[(netns, name)] = set()
        self.neigh_entries[(netns, name)] = set()

    def add_vlan(self, name: str, parent: str, vid: int, *, netns: str | None) -> None:
        if not self.vlan:
            raise PermanentError("add vlan", name, "Operation not supported")
        self.calls += 1
        self.netlink._ns(netns).links[name] = _new_link(name, "vlan")

    def vlan_supported(self, *, netns: str | None) -> bool:
        return self.vlan

    def change_entries(self, *, fdb_add: Iterable[tuple[str, str, str]] = (), fdb_del: Iterable[tuple[str, str, str]] = (),
                       neigh_add: Iterable[tuple[str, str, str]] = (), neigh_del: Iterable[tuple[str, str, str]] = (),
                       netns: str | None) -> None:  # fmt: skip
        self.calls += 1
        for dev, mac, dst in fdb_add:
            self.fdb_entries.setdefault((netns, dev), set()).add((mac, dst))
        for dev, mac, dst in fdb_del:
            self.fdb_entries.get((netns, dev), set()).discard((mac, dst))
        for dev, ip, mac in neigh_add:
            entries = self.neigh_entries.setdefault((netns, dev), set())
            entries -= {e for e in entries if e[0] == ip}
            entries.add((ip, mac))
        for dev, ip, mac in neigh_del:
            self.neigh_entries.get((netns, dev), set()).discard((ip, mac))
