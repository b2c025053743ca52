"""Open vSwitch userspace paths built by hand, measured beside a bare veth (and, through
``bench/dataplane.py --ovs-handbuilt``, beside the OVS lab's paths in the same run).

Issue 14's OVS target compares the lab with the recipe's hand-built OVS figure (about 1.0 Gb/s,
one TCP stream, TX checksum off), which was measured on one bridge, days apart from the lab's
runs (docs/dataplane.md, "Performance of the userspace datapath"). This builds the shapes with
``ip``, ``ovs-vsctl`` and ``ovs-ofctl``, each emulated host in a namespace with its own
ovsdb-server and ovs-vswitchd (``neutrino.dataplane.ovs.OvsInstance``, a private run directory),
every bridge ``datapath_type=netdev`` with the standalone bridge's single flow (NORMAL), and an
instance as a namespace whose ``eth0`` is a veth with its other end an ordinary (AF_PACKET) port
of the bridge (docs/dataplane.md, "Veth pairs, not OVS internal ports, into namespaces"):

- ``one-bridge``: the recipe's shape: one host, one bridge, two instances on it (MTU 1500).
- ``vxlan``: the lab's shape for a VXLAN network between two computes: two hosts, each with a
  veth to an underlay bridge in the root namespace (as the lab wires its hosts), that veth a
  port of ``br-phy`` whose LOCAL port holds the tunnel address, and ``br-int`` with the
  instance's veth and a VXLAN port to the other host (native tunnelling: docs/dataplane.md,
  "Tunnel endpoints"); MTU 1450 inside ("MTU on tunnels"). Unlike the lab's there is no
  br-tun, no patch ports and no hybrid plug: one bridge per host carries the instance's packets.
- ``vlan``: two hosts whose ``br-int`` each holds the instance's veth as an access port (tag
  100) and the underlay veth as the trunk: the frames cross the root namespace's underlay bridge
  tagged. MTU 1500.

Instances have TX checksum offload off (docs/dataplane.md, "Checksum offload"). A ``+tso``
suffix (``vxlan+tso``) writes ``other_config:userspace-tso-enable=true`` before each vswitchd
starts and leaves the instances' offloads on (docs/dataplane.md, "Userspace TSO": OVS 3.1 drops
offloaded packets it has to tunnel, so ``vxlan+tso`` is expected to carry nothing). A
``+afxdp`` suffix plugs the instances' veths and the underlay veths as ``afxdp-nonpmd``
Interfaces (generic XDP), as a lab with ``ovs_port_type: afxdp`` does (docs/dataplane.md,
"AF_XDP ports"); it does not combine with ``+tso``.

Usage (root): ``./dev bench ovs_handbuilt [--seconds N] [--rounds N] VARIANT...`` (or
``.venv/bin/python bench/ovs_handbuilt.py ...``: it imports ``neutrino``); each round
measures the bare veth and then each variant, and prints the median Gb/s, the median and spread
of the ratios to the bare veth measured just before, and the CPU seconds per GB moved (both
iperf3 processes and the path's vswitchds). Everything is named ``ob<run>*`` (namespaces, the
underlay bridge and its veths; OVS's run directories under ``/tmp/ovshb-<run>-*``) and removed at
the end, also on failure, Ctrl-C or SIGTERM: the daemons by pid, then the namespaces.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, NamedTuple

from dataplane_table import median  # (bench/ is on sys.path: python bench/NAME.py)
from lb_handbuilt import BareVeth, measure_rounds

SHAPES = {"one-bridge": "one bridge", "vxlan": "VXLAN (two hosts)", "vlan": "VLAN (two hosts)"}
TSO = "tso"
AFXDP = "afxdp"
VNI = 4242
VLAN = 100
INNER_MTU = {"one-bridge": 1500, "vxlan": 1450, "vlan": 1500}


class Variant(NamedTuple):
    shape: str
    tso: bool = False
    afxdp: bool = False


def parse_variant(variant: str) -> Variant:
    """``"vxlan+tso"`` -> ``Variant("vxlan", tso=True)``; an unknown shape or suffix, a repeated
    one, or both suffixes is a ValueError."""
    shape, *rest = variant.split("+")
    if shape not in SHAPES or any(r not in (TSO, AFXDP) for r in rest) or len(rest) > 1:
        raise ValueError(f"unknown variant {variant!r}: one of {', '.join(SHAPES)}, optionally +{TSO} or +{AFXDP}")
    return Variant(shape, TSO in rest, AFXDP in rest)


def row_label(variant: str) -> str:
    """The row of ``variant`` in bench/dataplane.py's table: ``"OVS hand-built VXLAN (two hosts)"``,
    ``"OVS hand-built one bridge + userspace TSO"``, ``"OVS hand-built one bridge, AF_XDP"``."""
    v = parse_variant(variant)
    return f"OVS hand-built {SHAPES[v.shape]}" + (" + userspace TSO" if v.tso else "") + (", AF_XDP" if v.afxdp else "")


def sh(*argv: str, netns: str | None = None, check: bool = True, env: dict[str, str] | None = None,
       timeout: float = 60.0) -> str:  # fmt: skip
    """stdout of ``argv`` (in ``netns``); with ``check=False`` a timeout gives "" (the program killed)."""
    cmd = (["ip", "netns", "exec", netns] if netns else []) + list(argv)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, env={**os.environ, **(env or {})},
                              stdin=subprocess.DEVNULL, timeout=timeout)  # fmt: skip
    except subprocess.TimeoutExpired:
        if check:
            raise
        return ""
    if check and done.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: {done.stderr.strip()}")
    return done.stdout


def cpu_seconds(pids: tuple[int, ...]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return total


def stop_server(pidfile: Path) -> None:
    """The ``iperf3 -s -1`` this bench started, if it still waits (a client that never got
    through leaves it waiting for good, in a namespace about to go): by pid, after checking it."""
    from neutrino.dataplane import daemons

    daemons.stop(pidfile, "iperf3", timeout=2.0)


def iperf(client_ns: str, server_ns: str, server_ip: str, seconds: float, pids: tuple[int, ...] = ()) -> tuple[float, float]:
    """(Gb/s, CPU seconds per GB) of one TCP stream; the CPU is both iperf3 processes' and that of
    ``pids`` (the path's vswitchds), as bench/dataplane.py counts it. (0, 0) when nothing passed."""
    with tempfile.TemporaryDirectory(prefix="ovshb-iperf-") as tmp:
        pidfile = Path(tmp) / "iperf3.pid"
        sh("iperf3", "-s", "-1", "-D", "-p", "5201", "-I", str(pidfile), netns=server_ns)
        time.sleep(0.3)
        before = cpu_seconds(pids)
        try:
            out = sh("iperf3", "-c", server_ip, "-p", "5201", "-t", str(seconds), "-J", netns=client_ns, check=False,
                     timeout=seconds + 15)  # a path that drops everything would hold it for minutes
        finally:
            stop_server(pidfile)
    try:
        end = json.loads(out)["end"]
        received = end["sum_received"]
        own = (end["cpu_utilization_percent"]["host_total"] + end["cpu_utilization_percent"]["remote_total"]) / 100
        cpu = own * received["seconds"] + cpu_seconds(pids) - before
        return float(received["bits_per_second"]) / 1e9, cpu / (received["bytes"] / 1e9)
    except (ValueError, KeyError, ZeroDivisionError):
        return 0.0, 0.0


class OvsPath:
    """One hand-built path: ``vms[0]`` to ``vms[1]`` through the OVS instances of ``hosts``."""

    def __init__(self, run: str, index: int, variant: str) -> None:
        self.variant = variant
        self.shape, self.tso, self.afxdp = parse_variant(variant)
        self.tag = f"ob{run}{index}"
        two = self.shape != "one-bridge"
        self.hosts = [f"{self.tag}-h{n}" for n in ((1, 2) if two else (1,))]
        self.vms = [f"{self.tag}-v{n}" for n in (1, 2)]
        self.switch = f"{self.tag}s" if two else None  # the underlay bridge in the root namespace
        self.underlay = [f"10.{220 + index}.0.{n}" for n in (1, 2)]
        self.inner = [f"10.{230 + index}.0.{n}" for n in (1, 2)]
        self.mtu = INNER_MTU[self.shape]
        self.dir = Path(tempfile.mkdtemp(prefix=f"ovshb-{run}-{index}-", dir="/tmp"))
        self.dir.chmod(0o700)

    def _ovs(self, host: str) -> Any:
        from neutrino.dataplane.host import HostContext
        from neutrino.dataplane.ovs import OvsInstance

        return OvsInstance(HostContext(name=host, netns=host, ovs_dir=self.dir / host.rsplit("-", 1)[1]))

    def _vsctl(self, host: str, *args: str) -> str:
        ovs = self._ovs(host)
        return sh("ovs-vsctl", f"--db={ovs.host.ovsdb_remote}", "--timeout=10", *args, env=ovs.host.ovs_env)

    @property
    def namespaces(self) -> list[str]:
        return self.hosts + self.vms

    def pids(self) -> tuple[int, ...]:
        """The vswitchds of this path (their CPU counts per GB moved)."""
        return tuple(pid for host in self.hosts if (pid := self._ovs(host).pids()["ovs-vswitchd"]))

    def up(self) -> None:
        for ns in self.namespaces:
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        if self.switch:
            sh("ip", "link", "add", self.switch, "type", "bridge")
            sh("ip", "link", "set", self.switch, "up")
        for host in self.hosts:
            self._ovs(host).start(other_config={"userspace-tso-enable": "true"} if self.tso else None)
            self._vsctl(host, "add-br", "br-int", "--", "set", "Bridge", "br-int", "datapath_type=netdev")
        if self.shape == "one-bridge":
            for n in (0, 1):
                self._instance(self.hosts[0], n)
        else:
            for n, host in enumerate(self.hosts):
                self._host(n, host)
                self._instance(host, n)
        # NORMAL learns and OVS resolves the tunnel's ARP itself: the first packets may be lost
        sh("ping", "-c", "3", "-i", "0.2", "-W", "1", self.inner[1], netns=self.vms[0], check=False)

    def _host(self, n: int, host: str) -> None:
        """The underlay veth (``eth1`` in the host, ``<tag>u<n>`` on the root bridge) and the
        shape's OVS ports on it."""
        assert self.switch
        root_end = f"{self.tag}u{n + 1}"
        sh("ip", "link", "add", root_end, "type", "veth", "peer", "name", "eth1", "netns", host)
        sh("ip", "link", "set", root_end, "master", self.switch, "up")
        if self.afxdp:  # the VLAN tag in the frame's bytes, where generic XDP reads it
            sh("ethtool", "-K", root_end, "txvlan", "off")
        sh("ip", "-n", host, "link", "set", "eth1", "up")
        if self.shape == "vlan":  # the underlay is br-int's trunk
            self._vsctl(host, "add-port", "br-int", "eth1", *self._port_type("eth1"))
            return
        other = self.underlay[1 - n]
        tunnel = "vxlan-" + "".join(f"{int(octet):02x}" for octet in other.split("."))
        self._vsctl(host, "add-br", "br-phy", "--", "set", "Bridge", "br-phy", "datapath_type=netdev",
                    "--", "add-port", "br-phy", "eth1", *self._port_type("eth1"))  # fmt: skip
        deadline = time.monotonic() + 5
        while sh("ip", "-n", host, "link", "show", "br-phy", check=False) == "" and time.monotonic() < deadline:
            time.sleep(0.05)
        sh("ip", "-n", host, "addr", "add", f"{self.underlay[n]}/24", "dev", "br-phy")
        sh("ip", "-n", host, "link", "set", "br-phy", "up")
        self._vsctl(host, "add-port", "br-int", tunnel, "--", "set", "Interface", tunnel, "type=vxlan",
                    f"options:remote_ip={other}", f"options:local_ip={self.underlay[n]}", f"options:key={VNI}",
                    "options:df_default=true")  # fmt: skip

    def _port_type(self, name: str) -> list[str]:
        """The ovs-vsctl arguments that make ``name`` an AF_XDP port (``+afxdp``), else none."""
        if not self.afxdp:
            return []
        return ["--", "set", "Interface", name, "type=afxdp-nonpmd", "options:xdp-mode=generic"]

    def _instance(self, host: str, n: int) -> None:
        """``eth0`` of instance ``n``; its peer ``tap<n>`` an ordinary port of ``br-int``."""
        vm, tap = self.vms[n], f"tap{n + 1}"
        sh("ip", "-n", host, "link", "add", tap, "mtu", str(self.mtu), "type", "veth", "peer", "name", "eth0", "netns", vm)
        sh("ip", "-n", host, "link", "set", tap, "up")
        tag = [f"tag={VLAN}"] if self.shape == "vlan" else []
        self._vsctl(host, "add-port", "br-int", tap, *tag, *self._port_type(tap))
        sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", netns=vm)
        sh("ip", "-n", vm, "link", "set", "eth0", "mtu", str(self.mtu))
        sh("ip", "-n", vm, "addr", "add", f"{self.inner[n]}/24", "dev", "eth0")
        sh("ip", "-n", vm, "link", "set", "eth0", "up")
        if not self.tso:  # docs/dataplane.md, "Checksum offload"
            sh("ethtool", "-K", "eth0", "tx", "off", netns=vm)

    def down(self) -> None:
        """The daemons by pid (OvsInstance.stop), then the namespaces (which take the veths and
        OVS's taps with them), the underlay bridge and the run directory; each step whatever the
        previous ones did."""
        for host in self.hosts:
            try:
                self._ovs(host).stop()
            except Exception as exc:  # noqa: BLE001 - cleanup goes on
                print(f"{host}: stopping OVS: {exc}")
        for ns in self.namespaces:
            sh("ip", "netns", "del", ns, check=False)
        if self.switch:
            sh("ip", "link", "del", self.switch, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def measure(self, seconds: float) -> tuple[float, float]:
        return iperf(self.vms[0], self.vms[1], self.inner[1], seconds, self.pids())


def _terminate(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up as Ctrl-C does (the finally below)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", help=f"{', '.join(SHAPES)}, each optionally +{TSO}")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for variant in args.variants:
        try:
            parse_variant(variant)
        except ValueError as exc:
            parser.error(str(exc))
    signal.signal(signal.SIGTERM, _terminate)
    run = uuid.uuid4().hex[:3]
    bare = BareVeth(run, prefix="ob")  # the recipe's ceiling, as lb_handbuilt builds it
    paths = {variant: OvsPath(run, i, variant) for i, variant in enumerate(args.variants)}
    samples = {v: [(got, base) for got, (base, _) in runs]
               for v, runs in measure_rounds(bare, paths, args.rounds, args.seconds).items()}  # fmt: skip
    print(f"{args.rounds} rounds of {args.seconds:g} s; ratios: median of (path / the bare veth measured just before it);"
          " CPU: seconds per GB of both iperf3 processes and the path's vswitchds")  # fmt: skip
    print(f"{'variant':<16}{'Gb/s':>7}{'(min-max)':>13}{'bare':>7}{'x bare':>8}{'(min-max)':>12}{'CPU s/GB':>10}")
    for variant, runs in samples.items():
        gbps = [g for (g, _), _ in runs]
        ratios = [g / b if b else 0.0 for (g, _), b in runs]
        cpu = [c for (_, c), _ in runs if c]
        print(f"{variant:<16}{median(gbps):>7.2f}{f'{min(gbps):.2f}-{max(gbps):.2f}':>13}{median([b for _, b in runs]):>7.2f}"
              f"{median(ratios):>8.2f}{f'{min(ratios):.2f}-{max(ratios):.2f}':>12}"
              f"{(f'{median(cpu):.2f}' if cpu else '-'):>10}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
