"""Kernel VXLAN devices with their static forwarding (FDB) and proxy neighbour entries.

What the Linux bridge agent needs beyond ``netlink.Netlink``: ``vxlan-<vni>`` devices created
without learning and with the ARP/ND proxy (``nolearning proxy``: entries come from the server,
nothing is flooded to learn), VLAN subinterfaces, and the permanent FDB and neighbour entries,
read as JSON and changed in one ``bridge -batch`` / ``ip -batch`` each (one process per change
set, not one per entry). Creates are idempotent (an existing device with the same VNI and local
address is kept); ``-force`` lets a batch go on past an entry already there or already gone.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from neutrino.dataplane import exec as programs
from neutrino.dataplane.errors import PermanentError
from neutrino.dataplane.naming import check_ifname

LOG = logging.getLogger(__name__)
VXLAN_UDP_PORT = 4789


class KernelVxlan:
    def __init__(self, run: object = programs.run) -> None:
        self.run = run

    def _json(self, argv: list[str], netns: str | None) -> list[dict]:  # type: ignore[type-arg]
        done = self.run(argv, netns=netns)  # type: ignore[operator]
        text = done.stdout.strip()
        return json.loads(text) if text else []

    # --- reads -------------------------------------------------------------------------------

    def vxlan_devices(self, *, netns: str | None) -> dict[str, tuple[int, str | None]]:
        """name -> (VNI, local address) of every VXLAN device."""
        out = {}
        for link in self._json(["ip", "-j", "-d", "link", "show", "type", "vxlan"], netns):
            data = (link.get("linkinfo") or {}).get("info_data") or {}
            out[link["ifname"]] = (int(data.get("id", -1)), data.get("local"))
        return out

    def fdb(self, *, netns: str | None) -> dict[str, frozenset[tuple[str, str]]]:
        """device -> permanent remote entries (mac, dst) of the VXLAN devices."""
        out: dict[str, set[tuple[str, str]]] = {}
        for entry in self._json(["bridge", "-j", "fdb", "show"], netns):
            if entry.get("dst") and entry.get("state") == "permanent" and "self" in (entry.get("flags") or []):
                out.setdefault(entry["ifname"], set()).add((entry["mac"].lower(), entry["dst"]))
        return {k: frozenset(v) for k, v in out.items()}

    def neighbours(self, *, netns: str | None) -> dict[str, frozenset[tuple[str, str]]]:
        """device -> permanent neighbour entries (ip, mac)."""
        out: dict[str, set[tuple[str, str]]] = {}
        for family in ("-4", "-6"):
            for entry in self._json(["ip", family, "-j", "neigh", "show", "nud", "permanent"], netns):
                if entry.get("lladdr") and entry.get("dev"):
                    out.setdefault(entry["dev"], set()).add((entry["dst"], entry["lladdr"].lower()))
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
