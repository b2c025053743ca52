"""An in-memory kernel behind the same methods as ``netlink.Netlink``, for unit tests.

It mirrors the semantics the real adapter relies on and the contract tests check on both:
idempotent creates and deletes, typed errors with the kernel's errno, a veth pair dies as a
whole (deleting one end, or the namespace of one end, removes the other), deleting a bridge
releases its ports, interface names are at most 15 characters, sysctls are per namespace and the
root namespace's are refused. OVS fakes are in ``fake_ovs``.
"""

from __future__ import annotations

import errno
import ipaddress
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from neutrino.dataplane.errors import PermanentError, from_errno
from neutrino.dataplane.naming import check_ifname
from neutrino.dataplane.netlink import LinkInfo

_MACS = itertools.count(1)
_INDEXES = itertools.count(2)  # 1 is each namespace's lo in the kernel too


@dataclass
class _Link:
    info: LinkInfo
    peer: tuple[str | None, str] | None = None  # (netns, name) of a veth's other end
    addresses: list[str] = field(default_factory=list)
    index: int = field(default_factory=lambda: next(_INDEXES))


@dataclass
class _Namespace:
    links: dict[str, _Link] = field(default_factory=dict)
    routes: dict[str, str | None] = field(default_factory=dict)
    sysctls: dict[str, str] = field(default_factory=dict)


def _new_link(name: str, kind: str | None, mtu: int | None = None) -> _Link:
    n = next(_MACS)
    mac = "02:00:00:%02x:%02x:%02x" % ((n >> 16) & 255, (n >> 8) & 255, n & 255)
    return _Link(LinkInfo(name=name, kind=kind, mtu=mtu or (65536 if kind is None else 1500), address=mac, up=False, master=None))


class FakeNetlink:
    def __init__(self) -> None:
        self.namespaces: dict[str | None, _Namespace] = {None: _Namespace()}
        self.namespaces[None].links["lo"] = _new_link("lo", None)
        self.tx_checksum_off: set[tuple[str | None, str]] = set()
        """(netns, device) of links whose transmit checksum offload was turned off."""

    def close(self) -> None:
        return None

    def __enter__(self) -> FakeNetlink:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def _ns(self, netns: str | None) -> _Namespace:
        ns = self.namespaces.get(netns)
        if ns is None:
            raise PermanentError("open", f"namespace {netns}", "no such namespace")
        return ns

    # --- namespaces --------------------------------------------------------------------------

    def netns_exists(self, name: str) -> bool:
        return name in self.namespaces

    def list_netns(self) -> list[str]:
        return sorted(n for n in self.namespaces if n is not None)

    def add_netns(self, name: str, *, may_exist: bool = True) -> None:
        if name in self.namespaces:
            if may_exist:
                return
            raise from_errno("add netns", name, errno.EEXIST)
        ns = _Namespace()
        ns.links["lo"] = _new_link("lo", None)
        self.namespaces[name] = ns

    def del_netns(self, name: str, *, if_exists: bool = True) -> None:
        if name not in self.namespaces:
            if if_exists:
                return
            raise from_errno("del netns", name, errno.ENOENT)
        for link_name in list(self.namespaces[name].links):
            self._drop(name, link_name)
        del self.namespaces[name]

    # --- links -------------------------------------------------------------------------------

    def link(self, name: str, *, netns: str | None = None) -> LinkInfo | None:
        found = self._ns(netns).links.get(name)
        return found.info if found else None

    def links(self, *, netns: str | None = None) -> list[LinkInfo]:
        return [link.info for link in self._ns(netns).links.values()]

    def link_indexes(self, *, netns: str | None = None) -> dict[str, int]:
        return {name: link.index for name, link in self._ns(netns).links.items()}

    def link_addresses(self, *, netns: str | None = None) -> dict[str, str]:
        return {link.info.name: link.info.address or "" for link in self._ns(netns).links.values()}

    def _exists(self, op: str, name: str, netns: str | None, may_exist: bool) -> bool:
        if name in self._ns(netns).links:
            if may_exist:
                return True
            raise from_errno(op, name, errno.EEXIST)
        return False

    def add_veth(self, name: str, peer: str, *, netns: str | None = None, peer_netns: str | None = None,
                 mtu: int | None = None, may_exist: bool = True) -> None:  # fmt: skip
        check_ifname(name)
        check_ifname(peer)
        if self._exists("add veth", name, netns, may_exist):
            return
        target = peer_netns if peer_netns is not None else netns
        if peer in self._ns(target).links:
            raise from_errno("add veth", name, errno.EEXIST)
        a, b = _new_link(name, "veth", mtu), _new_link(peer, "veth", mtu)
        a.peer, b.peer = (target, peer), (netns, name)
        self._ns(netns).links[name] = a
        self._ns(target).links[peer] = b

    def add_bridge(self, name: str, *, netns: str | None = None, may_exist: bool = True) -> None:
        check_ifname(name)
        if self._exists("add bridge", name, netns, may_exist):
            return
        self._ns(netns).links[name] = _new_link(name, "bridge")

    def _drop(self, netns: str | None, name: str) -> None:
        ns = self.namespaces.get(netns)
        if ns is None or name not in ns.links:
            return
        link = ns.links.pop(name)
        self.tx_checksum_off.discard((netns, name))
        for other in ns.links.values():
            if other.info.master == name:
                other.info = replace(other.info, master=None)
        if link.peer is not None:
            self._drop(*link.peer)

    def del_link(self, name: str, *, netns: str | None = None, if_exists: bool = True) -> None:
        if netns is not None and netns not in self.namespaces and if_exists:
            return
        if name not in self._ns(netns).links:
            if if_exists:
                return
            raise from_errno("del link", name, errno.ENODEV)
        self._drop(netns, name)

    def set_link(self, name: str, *, netns: str | None = None, up: bool | None = None, mtu: int | None = None,
                 address: str | None = None, master: str | None = None) -> None:  # fmt: skip
        link = self._ns(netns).links.get(name)
        if link is None:
            raise from_errno("set link", name, errno.ENODEV)
        changes: dict[str, Any] = {}
        if mtu is not None:
            changes["mtu"] = mtu
        if address is not None:
            changes["address"] = address.lower()
        if master is not None:
            if master and master not in self._ns(netns).links:
                raise from_errno("set master of", name, errno.ENODEV, f"no bridge {master}")
            changes["master"] = master or None
        if up is not None:
            changes["up"] = up
        link.info = replace(link.info, **changes)

    # --- addresses and routes ----------------------------------------------------------------

    def addresses(self, name: str, *, netns: str | None = None, link_local: bool = False) -> list[str]:
        link = self._ns(netns).links.get(name)
        return list(link.addresses) if link else []

    def add_address(self, name: str, cidr: str, *, netns: str | None = None) -> None:
        link = self._ns(netns).links.get(name)
        if link is None:
            raise from_errno("add address to", name, errno.ENODEV)
        value = str(ipaddress.ip_interface(cidr))
        if value not in link.addresses:
            link.addresses.append(value)

    def del_address(self, name: str, cidr: str, *, netns: str | None = None) -> None:
        link = self._ns(netns).links.get(name)
        value = str(ipaddress.ip_interface(cidr))
        if link is not None and value in link.addresses:
            link.addresses.remove(value)

    def replace_route(self, dst: str, *, gateway: str | None = None, dev: str | None = None, netns: str | None = None) -> None:
        ns = self._ns(netns)
        if dev is not None and dev not in ns.links:
            raise from_errno("route via", dev, errno.ENODEV)
        ns.routes["default" if dst in ("default", "0.0.0.0/0") else dst] = gateway

    def del_route(self, dst: str, *, gateway: str | None = None, netns: str | None = None) -> None:
        routes = self._ns(netns).routes
        key = "default" if dst in ("default", "0.0.0.0/0") else dst
        if key in routes and (gateway is None or routes[key] == gateway):
            del routes[key]

    def routes(self, *, netns: str | None = None) -> list[dict[str, Any]]:
        return [{"dst": d, "gateway": g} for d, g in self._ns(netns).routes.items()]

    # --- sysctls -----------------------------------------------------------------------------

    def set_sysctl(self, key: str, value: str | int, *, netns: str | None) -> None:
        if netns is None:
            raise PermanentError("sysctl", key, "refusing to change the root namespace")
        self._ns(netns).sysctls[key] = str(value)

    def get_sysctl(self, key: str, *, netns: str | None) -> str:
        return self._ns(netns).sysctls.get(key, "0")

    def disable_ipv6_link_local(self, name: str, *, netns: str) -> None:
        if name not in self._ns(netns).links:
            raise from_errno("sysctl", f"net.ipv6.conf.{name}.addr_gen_mode", errno.ENOENT)
        self.set_sysctl(f"net.ipv6.conf.{name}.addr_gen_mode", 1, netns=netns)

    def disable_tx_checksum(self, name: str, *, netns: str | None) -> None:
        if name not in self._ns(netns).links:
            raise from_errno("tx checksum off", name, errno.ENODEV)
        self.tx_checksum_off.add((netns, name))

    def set_tx_checksum(self, name: str, on: bool, *, netns: str | None) -> bool | None:
        if name not in self._ns(netns).links:
            return None
        was_on = (netns, name) not in self.tx_checksum_off
        (self.tx_checksum_off.discard if on else self.tx_checksum_off.add)((netns, name))
        return was_on != on


class FakeNftables:
    """Tables per namespace, replaced whole; checks names as the real adapter does. The body is
    stored as given (the real ``nft list table`` shows nft's normalised form)."""

    def __init__(self, netlink: FakeNetlink | None = None) -> None:
        self.netlink = netlink
        self.tables: dict[tuple[str | None, str, str], str] = {}
        self.scripts: list[str | None] = []
        """The namespace of every script run (one ``nft -f`` each), for tests counting them."""

    def _check_ns(self, netns: str | None) -> None:
        if self.netlink is not None and netns is not None and not self.netlink.netns_exists(netns):
            raise PermanentError("nft", f"namespace {netns}", "no such namespace")

    def apply_table(self, family: str, table: str, body: str, *, netns: str | None) -> None:
        from neutrino.dataplane.nftables import replace_script

        replace_script(family, table, body)  # the same name checks
        self._check_ns(netns)
        self.scripts.append(netns)
        self.tables[(netns, family, table)] = body

    def apply_tables(self, tables: dict[tuple[str, str], str | None], *, netns: str | None) -> None:
        from neutrino.dataplane.nftables import tables_script

        if not tables:
            return
        tables_script(tables)  # the same name checks
        self._check_ns(netns)
        self.scripts.append(netns)
        for (family, table), body in tables.items():
            if body is None:
                self.tables.pop((netns, family, table), None)
            else:
                self.tables[(netns, family, table)] = body

    def delete_table(self, family: str, table: str, *, netns: str | None) -> None:
        from neutrino.dataplane.nftables import check_table

        check_table(family, table)
        self._check_ns(netns)
        self.scripts.append(netns)
        self.tables.pop((netns, family, table), None)

    def chains(self, *, netns: str | None) -> dict[tuple[str, str], set[str]]:
        from neutrino.dataplane.nftables import parse_chains

        self._check_ns(netns)
        return {(f, t): parse_chains(f"table {f} {t}\n" + body).get((f, t), set())
                for (ns, f, t), body in self.tables.items() if ns == netns}  # fmt: skip

    def list_tables(self, *, netns: str | None) -> list[tuple[str, str]]:
        self._check_ns(netns)
        return sorted((f, t) for (ns, f, t) in self.tables if ns == netns)

    def table(self, family: str, table: str, *, netns: str | None) -> str | None:
        return self.tables.get((netns, family, table))


class FakeAnnouncer:
    """Records the announcements instead of sending them: (netns, device, addresses)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str | None, str, tuple[str, ...]]] = []

    def announce(self, device: str, addresses: Iterable[str], *, netns: str | None) -> None:
        self.sent.append((netns, device, tuple(addresses)))

    def close(self) -> None:
        pass


class FakeConntrack:
    """Records the deletions and marks instead of running them: (netns, filter argv[, mark])."""

    def __init__(self) -> None:
        self.deleted: list[tuple[str | None, tuple[str, ...]]] = []
        self.marked: list[tuple[str | None, tuple[str, ...], int]] = []

    def delete(self, filters: Iterable[Sequence[str]], *, netns: str | None) -> int:
        batch = [(netns, tuple(argv)) for argv in filters]
        self.deleted.extend(batch)
        return len(batch)

    def mark(self, filters: Iterable[Sequence[str]], mark: int, *, netns: str | None) -> int:
        batch = [(netns, tuple(argv), mark) for argv in filters]
        self.marked.extend(batch)
        return len(batch)
