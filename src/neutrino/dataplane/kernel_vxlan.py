"""Kernel VXLAN devices with their static forwarding (FDB) and proxy neighbour entries.

What the Linux bridge agent needs beyond ``netlink.Netlink``: ``vxlan-<vni>`` devices created
without learning and with the ARP/ND proxy (``nolearning proxy``: entries come from the server,
nothing is flooded to learn), VLAN subinterfaces, and the permanent FDB and neighbour entries,
read through netlink (pyroute2: a pass that changes nothing starts no program) and changed in
one ``bridge -batch`` / ``ip -batch`` each (one process per change set, not one per entry). Creates are idempotent (an existing device with the same VNI and local
address is kept); ``-force`` lets a batch go on past an entry already there or already gone.
"""

from __future__ import annotations

import logging
import socket as sockets
from collections.abc import Iterable
from typing import Any

from neutrino.dataplane import exec as programs
from neutrino.dataplane.errors import PermanentError
from neutrino.dataplane.naming import check_ifname
from neutrino.dataplane.netlink import Netlink

LOG = logging.getLogger(__name__)
VXLAN_UDP_PORT = 4789
NUD_PERMANENT = 0x80
NTF_SELF = 0x02


class KernelVxlan:
    def __init__(self, run: object = programs.run, netlink: Netlink | None = None) -> None:
        self.run = run
        self.netlink = netlink if netlink is not None else Netlink()
        """Its sockets carry the reads."""

    def close(self) -> None:
        self.netlink.close()

    def _names(self, ipr: Any) -> dict[int, str]:
        return {msg["index"]: msg.get("ifname") for msg in ipr.get_links()}

    # --- reads -------------------------------------------------------------------------------

    def vxlan_devices(self, *, netns: str | None) -> dict[str, tuple[int, str | None]]:
        """name -> (VNI, local address) of every VXLAN device."""
        out = {}
        for link in self.netlink.socket(netns).get_links():
            if link.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND") != "vxlan":
                continue
            data = link.get_nested("IFLA_LINKINFO", "IFLA_INFO_DATA")
            vni = data.get("IFLA_VXLAN_ID") if data is not None else None
            out[link.get("ifname")] = (int(vni if vni is not None else -1), data.get("IFLA_VXLAN_LOCAL") if data is not None else None)
        return out

    def fdb(self, *, netns: str | None) -> dict[str, frozenset[tuple[str, str]]]:
        """device -> permanent remote entries (mac, dst) of the VXLAN devices."""
        ipr = self.netlink.socket(netns)
        names = self._names(ipr)
        out: dict[str, set[tuple[str, str]]] = {}
        for entry in ipr.get_neighbours(family=sockets.AF_BRIDGE):
            dst, mac, name = entry.get("NDA_DST"), entry.get("NDA_LLADDR"), names.get(entry["ifindex"])
            if dst and mac and name and entry["state"] & NUD_PERMANENT and entry["flags"] & NTF_SELF:
                out.setdefault(name, set()).add((mac.lower(), dst))
        return {k: frozenset(v) for k, v in out.items()}

    def neighbours(self, *, netns: str | None) -> dict[str, frozenset[tuple[str, str]]]:
        """device -> permanent neighbour entries (ip, mac)."""
        ipr = self.netlink.socket(netns)
        names = self._names(ipr)
        out: dict[str, set[tuple[str, str]]] = {}
        for family in (sockets.AF_INET, sockets.AF_INET6):
            for entry in ipr.get_neighbours(family=family):
                dst, mac, name = entry.get("NDA_DST"), entry.get("NDA_LLADDR"), names.get(entry["ifindex"])
                if dst and mac and name and entry["state"] & NUD_PERMANENT:
                    out.setdefault(name, set()).add((dst, mac.lower()))
        return {k: frozenset(v) for k, v in out.items()}

    # --- writes ------------------------------------------------------------------------------

    def add_vxlan(self, name: str, vni: int, local_ip: str, *, mtu: int | None, proxy: bool = True, netns: str | None) -> None:
        check_ifname(name)
        have = self.vxlan_devices(netns=netns).get(name)
        if have == (vni, local_ip):
            return
        if have is not None:
            raise PermanentError("add vxlan", name, f"exists with VNI {have[0]} local {have[1]}")
        argv = ["ip", "link", "add", name, *(["mtu", str(mtu)] if mtu else []), "type", "vxlan", "id", str(vni),
                "local", local_ip, "dstport", str(VXLAN_UDP_PORT), "nolearning", *(["proxy"] if proxy else [])]  # fmt: skip
        self.run(argv, netns=netns)  # type: ignore[operator]

    def add_vlan(self, name: str, parent: str, vid: int, *, netns: str | None) -> None:
        check_ifname(name)
        self.run(["ip", "link", "add", "link", parent, "name", name, "type", "vlan", "id", str(vid)], netns=netns)  # type: ignore[operator]

    def vlan_supported(self, *, netns: str | None) -> bool:
        """Whether this kernel can make a VLAN subinterface (8021q): tried on a dummy device."""
        probe, sub = "nq-8021q-probe", "nq-8021q-p.2"
        try:
            self.run(["ip", "link", "add", probe, "type", "dummy"], netns=netns)  # type: ignore[operator]
        except Exception:  # noqa: BLE001 - no dummy either: call it unsupported
            return False
        try:
            done = self.run(["ip", "link", "add", "link", probe, "name", sub, "type", "vlan", "id", "2"], netns=netns, check=False)  # type: ignore[operator]
            return done.returncode == 0
        finally:
            self.run(["ip", "link", "del", probe], netns=netns, check=False)  # type: ignore[operator]

    def change_entries(
        self,
        *,
        fdb_add: Iterable[tuple[str, str, str]] = (),
        fdb_del: Iterable[tuple[str, str, str]] = (),
        neigh_add: Iterable[tuple[str, str, str]] = (),
        neigh_del: Iterable[tuple[str, str, str]] = (),
        netns: str | None,
    ) -> None:
        """(device, mac, dst) FDB entries and (device, ip, mac) neighbours, one batch each."""
        fdb = [f"fdb append {mac} dev {dev} dst {dst} self permanent" for dev, mac, dst in fdb_add]
        fdb += [f"fdb del {mac} dev {dev} dst {dst} self" for dev, mac, dst in fdb_del]
        neigh = [f"neigh replace {ip} lladdr {mac} dev {dev} nud permanent" for dev, ip, mac in neigh_add]
        neigh += [f"neigh del {ip} lladdr {mac} dev {dev}" for dev, ip, mac in neigh_del]
        for program, lines in (("bridge", fdb), ("ip", neigh)):
            if not lines:
                continue
            done = self.run([program, "-force", "-batch", "-"], netns=netns, input="\n".join(lines) + "\n", check=False)  # type: ignore[operator]
            problems = [ln for ln in done.stderr.splitlines() if ln.strip() and "No such file" not in ln and "exists" not in ln
                        and not ln.startswith("Command failed")]  # fmt: skip
            if problems:
                raise PermanentError(f"{program} -batch", netns or "root", "; ".join(problems[:3]))
