"""Namespaces, links, addresses and routes through netlink (pyroute2), idempotently.

One pyroute2 socket per namespace is opened on first use and kept (opening one costs about
10 ms); ``close()`` releases them. Every create takes ``may_exist`` and every delete
``if_exists``, so a reconciler can call them again and again. Kernel errors arrive as errno
codes and leave as typed errors (``errors.from_errno``). Sysctls are per namespace (docs/dataplane.md)
and netlink has no call for them: they are read and written as ``/proc/sys/net`` files from a
thread switched into the namespace (``in_netns``), as is the ethtool ioctl that turns transmit
checksum offload off; no program is started.
"""

from __future__ import annotations

import errno
import ipaddress
import os
from dataclasses import dataclass
from typing import Any

from pyroute2 import IPRoute, netns as pr_netns
from pyroute2.netlink.exceptions import NetlinkError

from neutrino.dataplane import link_dump
from neutrino.dataplane.in_netns import call_in
from neutrino.dataplane.errors import PermanentError, from_errno
from neutrino.dataplane.naming import check_ifname

NETNS_DIR = "/run/netns"


@dataclass(frozen=True)
class LinkInfo:
    name: str
    kind: str | None
    mtu: int
    address: str
    up: bool
    master: str | None


class Netlink:
    def __init__(self) -> None:
        self._sockets: dict[str | None, Any] = {}

    def close(self) -> None:
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()

    def __enter__(self) -> Netlink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def socket(self, netns: str | None) -> Any:
        """The namespace's pyroute2 socket, for adapters reading what this class does not wrap."""
        return self._ipr(netns)

    def _ipr(self, netns: str | None) -> Any:
        sock = self._sockets.get(netns)
        if sock is None:
            if netns is not None and not self.netns_exists(netns):
                raise PermanentError("open", f"namespace {netns}", "no such namespace")
            sock = IPRoute(netns=netns) if netns else IPRoute()
            self._sockets[netns] = sock
        return sock

    # --- namespaces --------------------------------------------------------------------------

    def netns_exists(self, name: str) -> bool:
        return os.path.exists(os.path.join(NETNS_DIR, name))

    def list_netns(self) -> list[str]:
        return sorted(pr_netns.listnetns())

    def add_netns(self, name: str, *, may_exist: bool = True) -> None:
        if self.netns_exists(name):
            if may_exist:
                return
            raise from_errno("add netns", name, errno.EEXIST)
        pr_netns.create(name)

    def del_netns(self, name: str, *, if_exists: bool = True) -> None:
        sock = self._sockets.pop(name, None)
        if sock is not None:
            sock.close()
        if not self.netns_exists(name):
            if if_exists:
                return
            raise from_errno("del netns", name, errno.ENOENT)
        pr_netns.remove(name)

    # --- links -------------------------------------------------------------------------------

    def _index(self, name: str, netns: str | None) -> int | None:
        try:
            found = self._ipr(netns).link_lookup(ifname=name)
        except NetlinkError as exc:
            if exc.code == errno.ENODEV:  # vanished during the lookup (its peer's namespace went)
                return None
            raise from_errno("look up", name, exc.code) from exc
        return found[0] if found else None

    def _call(self, op: str, target: str, fn: Any, *args: Any, **kw: Any) -> Any:
        try:
            return fn(*args, **kw)
        except NetlinkError as exc:
            raise from_errno(op, target, exc.code) from exc

    def link(self, name: str, *, netns: str | None = None) -> LinkInfo | None:
        index = self._index(name, netns)
        if index is None:
            return None
        try:
            msgs = self._ipr(netns).get_links(index)
        except NetlinkError as exc:
            if exc.code == errno.ENODEV:  # gone between lookup and read
                return None
            raise from_errno("read link", name, exc.code) from exc
        return self._info(self._ipr(netns), msgs[0])

    def links(self, *, netns: str | None = None) -> list[LinkInfo]:
        """Every link of the namespace, from one dump (masters named from the dump itself)."""
        msgs = self._ipr(netns).get_links()
        names = {msg["index"]: msg.get("ifname") for msg in msgs}
        return [self._info(None, msg, names) for msg in msgs]

    def link_indexes(self, *, netns: str | None = None) -> dict[str, int]:
        """Name -> ifindex of every link, through ``if_nameindex(3)`` in the namespace: no
        attribute parsing, so it stays cheap with thousands of links (a pyroute2 dump parses
        every link's attributes in Python, about a millisecond each). A recreated device has a
        new index."""
        import socket

        try:
            return {name: index for index, name in call_in(netns, socket.if_nameindex)}
        except OSError as exc:
            raise from_errno("list links", netns or "root namespace", exc.errno or errno.EIO) from exc

    def link_addresses(self, *, netns: str | None = None) -> dict[str, str]:
        """name -> MAC of every link, from a dump that decodes nothing else (``link_dump``)."""
        if netns is not None and not self.netns_exists(netns):
            raise PermanentError("list links", f"namespace {netns}", "no such namespace")
        return link_dump.link_addresses(netns)

    @staticmethod
    def _info(ipr: Any, msg: Any, names: dict[int, str] | None = None) -> LinkInfo:
        """``names`` (index -> name, from a dump): the master's name without asking again."""
        master_index = msg.get("master")
        master = None
        if master_index and names is not None:
            master = names.get(master_index)
        elif master_index:
            try:
                found = ipr.get_links(master_index)
            except NetlinkError as exc:
                if exc.code != errno.ENODEV:
                    raise
                found = []  # the master went away while we listed (a namespace being deleted)
            master = found[0].get("ifname") if found else None
        return LinkInfo(
            name=msg.get("ifname"),
            kind=msg.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND"),
            mtu=msg.get("mtu"),
            address=msg.get("address"),
            up=bool(msg["flags"] & 1),
            master=master,
        )

    def add_veth(
        self,
        name: str,
        peer: str,
        *,
        netns: str | None = None,
        peer_netns: str | None = None,
        mtu: int | None = None,
        may_exist: bool = True,
    ) -> None:
        """A veth pair, ``name`` in ``netns`` and ``peer`` in ``peer_netns`` (same when None),
        created directly where each end belongs (nothing passes through the root namespace)."""
        check_ifname(name)
        check_ifname(peer)
        if self._index(name, netns) is not None:
            if may_exist:
                return
            raise from_errno("add veth", name, errno.EEXIST)
        peer_spec: dict[str, Any] = {"ifname": peer}
        target = peer_netns if peer_netns is not None else netns
        if target is not None and target != netns:
            peer_spec["net_ns_fd"] = target
        if mtu:
            peer_spec["mtu"] = mtu
        extra = {"mtu": mtu} if mtu else {}
        self._call("add veth", name, self._ipr(netns).link, "add", ifname=name, kind="veth", peer=peer_spec, **extra)

    def add_bridge(self, name: str, *, netns: str | None = None, may_exist: bool = True) -> None:
        check_ifname(name)
        if self._index(name, netns) is not None:
            if may_exist:
                return
            raise from_errno("add bridge", name, errno.EEXIST)
        self._call("add bridge", name, self._ipr(netns).link, "add", ifname=name, kind="bridge")

    def del_link(self, name: str, *, netns: str | None = None, if_exists: bool = True) -> None:
        if netns is not None and not self.netns_exists(netns) and if_exists:
            return
        index = self._index(name, netns)
        if index is None:
            if if_exists:
                return
            raise from_errno("del link", name, errno.ENODEV)
        try:
            self._ipr(netns).link("del", index=index)
        except NetlinkError as exc:
            if exc.code == errno.ENODEV and if_exists:  # gone meanwhile (its peer was deleted)
                return
            raise from_errno("del link", name, exc.code) from exc

    def set_link(
        self,
        name: str,
        *,
        netns: str | None = None,
        up: bool | None = None,
        mtu: int | None = None,
        address: str | None = None,
        master: str | None = None,
    ) -> None:
        """Change what is given; ``master=""`` takes the link out of its bridge. The link is
        named in the request (the kernel looks it up): one round trip, not a lookup first."""
        spec: dict[str, Any] = {}
        if mtu is not None:
            spec["mtu"] = mtu
        if address is not None:
            spec["address"] = address
        if master is not None:
            if master == "":
                spec["master"] = 0
            else:
                master_index = self._index(master, netns)
                if master_index is None:
                    raise from_errno("set master of", name, errno.ENODEV, f"no bridge {master}")
                spec["master"] = master_index
        if up is not None:
            spec["state"] = "up" if up else "down"
        if spec:
            self._call("set link", name, self._ipr(netns).link, "set", ifname=name, **spec)
        elif self._index(name, netns) is None:
            raise from_errno("set link", name, errno.ENODEV)

    # --- addresses and routes ----------------------------------------------------------------

    def addresses(self, name: str, *, netns: str | None = None, link_local: bool = False) -> list[str]:
        """The addresses we can own: link-local ones (IPv6's are the kernel's) are left out
        unless ``link_local`` (the metadata address 169.254.169.254 is one of ours)."""
        index = self._index(name, netns)
        if index is None:
            return []
        out = []
        for msg in self._ipr(netns).get_addr(index=index):
            addr = msg.get("IFA_ADDRESS")
            if link_local or not ipaddress.ip_address(addr).is_link_local:
                out.append(f"{addr}/{msg['prefixlen']}")
        return out

    def add_address(self, name: str, cidr: str, *, netns: str | None = None) -> None:
        iface = ipaddress.ip_interface(cidr)
        if str(iface) in {str(ipaddress.ip_interface(a)) for a in self.addresses(name, netns=netns, link_local=True)}:
            return
        index = self._index(name, netns)
        if index is None:
            raise from_errno("add address to", name, errno.ENODEV)
        self._call(
            "add address", f"{cidr} on {name}", self._ipr(netns).addr, "add",
            index=index, address=str(iface.ip), prefixlen=iface.network.prefixlen,
        )  # fmt: skip

    def del_address(self, name: str, cidr: str, *, netns: str | None = None) -> None:
        iface = ipaddress.ip_interface(cidr)
        index = self._index(name, netns)
        if index is None or str(iface) not in {str(ipaddress.ip_interface(a)) for a in self.addresses(name, netns=netns)}:
            return
        self._call(
            "del address", f"{cidr} on {name}", self._ipr(netns).addr, "del",
            index=index, address=str(iface.ip), prefixlen=iface.network.prefixlen,
        )  # fmt: skip

    def replace_route(self, dst: str, *, gateway: str | None = None, dev: str | None = None, netns: str | None = None) -> None:
        """Add or replace the route to ``dst`` (``default`` or a CIDR)."""
        spec: dict[str, Any] = {"dst": "0.0.0.0/0" if dst == "default" else dst}
        if gateway:
            spec["gateway"] = gateway
        if dev:
            index = self._index(dev, netns)
            if index is None:
                raise from_errno("route via", dev, errno.ENODEV)
            spec["oif"] = index
        self._call("replace route", dst, self._ipr(netns).route, "replace", **spec)

    def del_route(self, dst: str, *, gateway: str | None = None, netns: str | None = None) -> None:
        """Delete the IPv4 route to ``dst`` (through ``gateway`` when given); absent is fine."""
        spec: dict[str, Any] = {"dst": "0.0.0.0/0" if dst == "default" else dst, "table": 254}
        if gateway:
            spec["gateway"] = gateway
        try:
            self._ipr(netns).route("del", **spec)
        except NetlinkError as exc:
            if exc.code not in (errno.ESRCH, errno.ENOENT):
                raise from_errno("del route", dst, exc.code) from exc

    def routes(self, *, netns: str | None = None) -> list[dict[str, Any]]:
        out = []
        for msg in self._ipr(netns).get_routes(family=2, table=254):
            dst = msg.get("RTA_DST")
            out.append({
                "dst": f"{dst}/{msg['dst_len']}" if dst else "default",
                "gateway": msg.get("RTA_GATEWAY"),
            })
        return out

    # --- sysctls and offloads ------------------------------------------------------------------

    def set_sysctl(self, key: str, value: str | int, *, netns: str | None) -> None:
        """Per-namespace sysctls only: refuses the root namespace, whose settings are not ours."""
        if netns is None:
            raise PermanentError("sysctl", key, "refusing to change the root namespace")
        path, text = _sysctl_path(key), f"{value}\n"

        def write() -> None:
            with open(path, "w") as fh:
                fh.write(text)

        _sysctl_call(key, netns, write)

    def get_sysctl(self, key: str, *, netns: str | None) -> str:
        path = _sysctl_path(key)

        def read() -> str:
            with open(path) as fh:
                return fh.read().strip()

        return _sysctl_call(key, netns, read)

    def disable_ipv6_link_local(self, name: str, *, netns: str) -> None:
        """No IPv6 link-local address on ``name`` when it comes up (``addrgenmode none``)."""
        check_ifname(name)
        self.set_sysctl(f"net.ipv6.conf.{name}.addr_gen_mode", 1, netns=netns)

    def disable_tx_checksum(self, name: str, *, netns: str | None) -> None:
        """Transmit checksum offload off (``ethtool -K tx off``, docs/dataplane.md, "Checksum
        offload"); nothing is written when it is off already. A missing device is an error."""
        if self.set_tx_checksum(name, False, netns=netns) is None:
            raise from_errno("tx checksum off", name, errno.ENODEV)

    def set_tx_checksum(self, name: str, on: bool, *, netns: str | None) -> bool | None:
        """Transmit checksum offload (and with it TSO) on or off, as ``ethtool -K <dev> tx``
        does, through pyroute2's ethtool ioctl in the namespace (no program started). True if
        it changed, False if it already was so, None if the device does not exist."""

        def change() -> bool | None:
            from pyroute2.ethtool import Ethtool

            tool = Ethtool()
            try:
                try:
                    features = tool.get_features(name)
                except OSError as exc:
                    if exc.errno == errno.ENODEV:
                        return None
                    raise
                differ = [f for n, f in features.features.items()
                          if n.startswith("tx-checksum") and f.available and bool(f.enable) != on]  # fmt: skip
                for feature in differ:
                    feature.enable = on
                if differ:
                    tool.set_features(name, features)
                return bool(differ)
            finally:
                tool.close()

        try:
            return call_in(netns, change)
        except NetlinkError as exc:
            raise from_errno("tx checksum", name, exc.code) from exc
        except OSError as exc:
            raise from_errno("tx checksum", name, exc.errno or errno.EIO) from exc


def _sysctl_path(key: str) -> str:
    if not key or ".." in key or "/" in key:
        raise PermanentError("sysctl", key, "not a sysctl key")
    return "/proc/sys/" + key.replace(".", "/")


def _sysctl_call(key: str, netns: str | None, fn: Any) -> Any:
    try:
        return call_in(netns, fn)
    except OSError as exc:
        raise from_errno("sysctl", key, exc.errno or errno.EIO) from exc
