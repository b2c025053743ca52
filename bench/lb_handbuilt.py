"""A Linux bridge VXLAN path built by hand, beside the lab's, to find what the lab's path costs.

Two "host" namespaces joined by an underlay veth each through a bridge in the root namespace
(as the lab wires its hosts), a kernel VXLAN device and a bridge in each host, and a veth from
that bridge into an instance namespace (the instance's eth0, its tap on the bridge): the
recipe's hand-built linuxbridge-style VXLAN. ``PIECES`` adds the lab's parts one at a time, so
that a run shows which one costs (docs/dataplane.md, "Throughput"):

- ``brnf``: ``bridge-nf-call-iptables=1`` in the hosts (br_netfilter runs the IP hooks for
  bridged IP; with nothing registered there it costs its own work only);
- ``ct``: the agent's conntrack table (zone per bridge, state marks, NOTRACK for the underlay),
  which registers conntrack in the hosts (needs ``brnf`` to see bridged packets);
- ``untracked``: with ``ct``, the bridge's traffic NOTRACK (a network with no filtered port on
  the host: the agent's CT table leaves its bridge untracked);
- ``fw``: the agent's bridge table (the per-port verdict maps, an accept for the port);
- ``agent``: instead of ``ct``/``fw``, the tables the agent's own renderer
  (``FirewallApplier.tables``) writes for the instance's port, filtered by a security group
  that allows TCP and ICMP in and everything out, on a bridge and tap named as the agent names
  them (implies ``brnf``): what a change to the renderer saves per byte;
- ``learning`` / ``noproxy`` / ``noudpcsum``: VXLAN device flags other than the agent's;
- ``gro``: GRO on every veth of the path (the veth then runs NAPI);
- ``nosnoop``: multicast snooping off on the hosts' bridges;
- ``txoff``: TX checksum offload off on the tunnel wire (what a lab with an OVS host does);
- ``threaded``: GRO on the hosts' underlay wires and their NAPI threaded, so that each
  emulated host receives in a kernel thread of its own (a real host's NIC interrupts its own
  CPUs; here every hop otherwise runs in the sender's softirq);
- ``underlay-nf0``: the underlay switch in a namespace of its own with br_netfilter off,
  instead of a bridge in the root namespace (whose bridge-nf-call-iptables is the host's).

Usage (root): ``python bench/lb_handbuilt.py [--seconds N] [--rounds N] VARIANT...`` where a
VARIANT is ``base`` or pieces joined by ``+`` (``brnf+ct+fw``); each round measures the bare
veth and then every variant, and prints the median ratio of each to the bare veth measured just
before it. Everything is named ``hb<run>-*`` and removed at the end, also on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterable
from typing import Any, Protocol

from dataplane_table import median  # (bench/ is on sys.path: python bench/NAME.py)

PIECES = ("brnf", "ct", "fw", "learning", "noproxy", "noudpcsum", "gro", "nosnoop", "txoff", "underlay-nf0", "threaded", "untracked", "agent")
VNI = 4242
INNER_MTU = 1450


def sh(*argv: str, netns: str | None = None, check: bool = True, stdin: str | None = None) -> str:
    cmd = (["ip", "netns", "exec", netns] if netns else []) + list(argv)
    done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False)
    if check and done.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: {done.stderr.strip()}")
    return done.stdout


def softirqd_ticks() -> int:
    """CPU ticks (user + system) of the ksoftirqd threads so far: softirq work the sender's
    context handed off (charged to them, not to iperf3)."""
    total = 0
    for pid in sh("pgrep", "-x", "ksoftirqd/[0-9]+", check=False).split():
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def iperf(client_ns: str, server_ns: str, server_ip: str, seconds: float) -> tuple[float, float]:
    """(Gb/s, CPU ms per GB) of one TCP stream from ``client_ns`` to ``server_ns``. The CPU is
    both iperf3 processes' (the kernel charges softirq work to the task it ran in, which with
    veth is the sender for the data and the receiver for the ACKs: the whole path) plus the
    ksoftirqd threads': steadier under other load than Gb/s."""
    sh("iperf3", "-s", "-1", "-D", "-p", "5201", netns=server_ns)
    time.sleep(0.3)
    before = softirqd_ticks()
    out = sh("iperf3", "-c", server_ip, "-p", "5201", "-t", str(seconds), "-J", netns=client_ns, check=False)
    softirqd = (softirqd_ticks() - before) / os.sysconf("SC_CLK_TCK")
    try:
        end = json.loads(out)["end"]
        gbps = float(end["sum_received"]["bits_per_second"]) / 1e9
        cpu = end["cpu_utilization_percent"]
        busy = (cpu["host_total"] + cpu["remote_total"]) / 100 * float(end["sum_received"]["seconds"]) + softirqd
        return gbps, busy * 1000 / (float(end["sum_received"]["bytes"]) / 1e9)
    except (ValueError, KeyError, ZeroDivisionError):
        return 0.0, 0.0


def ruleset(bridge: str, tap: str, untracked: bool = False) -> tuple[str, str]:
    """(conntrack table, bridge table) shaped as the agent's for one unfiltered port."""
    zones = "" if untracked else f'elements = {{ "{bridge}" : 77 }}'
    members = f'elements = {{ "{bridge}" }}' if untracked else ""
    ct = f"""table inet hb-ct {{
  set untracked {{ type ifname; {members} }}
  map zones {{ typeof iifname : ct zone; {zones} }}
  chain zone {{ type filter hook prerouting priority raw; policy accept;
    udp dport 4789 iifname != "qbr*" iifname != "brq*" notrack accept
    ct zone set iifname map @zones accept
    iifname @untracked notrack
  }}
  chain prerouting {{ type filter hook prerouting priority mangle; policy accept;
    iifname "qbr*" jump state_mark
    iifname "hbr*" jump state_mark
  }}
  chain state_mark {{
    meta mark set meta mark & 0xfcffffff
    ct state established,related meta mark set meta mark | 0x01000000
    ct state invalid meta mark set meta mark | 0x02000000
  }}
  chain tunnel_out {{ type filter hook output priority raw; policy accept;
    udp dport 4789 notrack
  }}
}}
"""
    fw = f"""table bridge hb-fw {{
  map to_vm {{ type ifname : verdict; elements = {{ "{tap}" : accept }} }}
  map from_vm {{ type ifname : verdict; elements = {{ "{tap}" : accept }} }}
  chain prerouting {{ type filter hook prerouting priority dstnat; policy accept;
    meta mark set meta mark & 0xfcffffff
  }}
  chain forward {{ type filter hook forward priority filter; policy accept;
    ether type 8021q accept
    oifname vmap @to_vm
    iifname vmap @from_vm
  }}
  chain input {{ type filter hook input priority filter; policy accept;
    iifname vmap @from_vm
  }}
}}
"""
    return ct, fw


def agent_script(port: object) -> str:
    """The agent's two tables for one port, as one ``nft -f`` script."""
    from neutrino.agent.firewall.applier import FirewallApplier, marked
    from neutrino.dataplane.nftables import replace_script

    return "".join(replace_script(family, table, marked(body)) for family, table, body in FirewallApplier.tables([port]))  # type: ignore[list-item]


class Path:
    """One hand-built path: ``hosts[i]`` with its instance ``vms[i]``; ``pieces`` as above."""

    def __init__(self, run: str, index: int, pieces: Iterable[str]) -> None:
        self.pieces = frozenset(pieces)
        unknown = self.pieces - set(PIECES)
        if unknown:
            raise ValueError(f"unknown pieces: {', '.join(sorted(unknown))}")
        self.tag = f"hb{run}{index}"
        self.hosts = [f"{self.tag}-h{n}" for n in (1, 2)]
        self.vms = [f"{self.tag}-v{n}" for n in (1, 2)]
        self.switch_ns = f"{self.tag}-sw" if "underlay-nf0" in self.pieces else None
        self.switch = f"{self.tag}s"
        self.underlay = [f"10.{200 + index}.0.{n}" for n in (1, 2)]
        self.inner = [f"10.{210 + index}.0.{n}" for n in (1, 2)]
        self.macs = [f"02:hb:00:00:{index:02x}:{n:02x}".replace("hb", "4b") for n in (1, 2)]
        self.net_id = f"{run}{index:x}b0000-0000-4000-8000-000000000000"
        self.port_ids = [f"{run}{index:x}{n}0000-0000-4000-8000-000000000000" for n in (1, 2)]
        agent = "agent" in self.pieces
        self.bridge = f"brq{self.net_id[:11]}" if agent else "hbr"
        self.taps = [f"tap{pid[:11]}" if agent else "tap" for pid in self.port_ids]

    @property
    def namespaces(self) -> list[str]:
        return self.hosts + self.vms + ([self.switch_ns] if self.switch_ns else [])

    def up(self) -> None:
        for ns in self.namespaces:
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sw_ns = self.switch_ns
        if sw_ns:
            sh("sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0", "net.bridge.bridge-nf-call-ip6tables=0",
               "net.bridge.bridge-nf-call-arptables=0", netns=sw_ns, check=False)  # fmt: skip
        sh("ip", *(["-n", sw_ns] if sw_ns else []), "link", "add", self.switch, "type", "bridge")
        sh("ip", *(["-n", sw_ns] if sw_ns else []), "link", "set", self.switch, "up")
        for n, (host, vm) in enumerate(zip(self.hosts, self.vms)):
            self._host(n, host, vm)
        for n, host in enumerate(self.hosts):
            other = 1 - n
            lines = [f"fdb append 00:00:00:00:00:00 dev vx dst {self.underlay[other]} self permanent",
                     f"fdb append {self.macs[other]} dev vx dst {self.underlay[other]} self permanent"]  # fmt: skip
            sh("bridge", "-batch", "-", netns=host, stdin="\n".join(lines) + "\n")
            if "noproxy" not in self.pieces:
                sh("ip", "neigh", "replace", self.inner[other], "lladdr", self.macs[other], "dev", "vx", "nud", "permanent", netns=host)
        if "agent" in self.pieces:
            for n, host in enumerate(self.hosts):
                sh("nft", "-f", "-", netns=host, stdin=agent_script(self.agent_port(n)))
        elif self.pieces & {"ct", "fw"}:
            for host in self.hosts:
                ct, fw = ruleset(self.bridge, self.taps[0], "untracked" in self.pieces)
                text = (ct if "ct" in self.pieces else "") + (fw if "fw" in self.pieces else "")
                sh("nft", "-f", "-", netns=host, stdin=text)
        sh("ping", "-c", "2", "-i", "0.2", "-W", "1", self.inner[1], netns=self.vms[0], check=False)

    def _host(self, n: int, host: str, vm: str) -> None:
        p = self.pieces
        brnf = "1" if p & {"brnf", "ct", "agent"} else "0"
        sh("sysctl", "-qw", f"net.bridge.bridge-nf-call-iptables={brnf}", f"net.bridge.bridge-nf-call-ip6tables={brnf}",
           "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0", netns=host, check=False)  # fmt: skip
        root_end = f"{self.tag}u{n + 1}"
        sw = ["-n", self.switch_ns] if self.switch_ns else []
        sh("ip", *sw, "link", "add", root_end, "type", "veth", "peer", "name", "eth2", "netns", host)
        sh("ip", *sw, "link", "set", root_end, "master", self.switch, "up")
        sh("ip", "-n", host, "addr", "add", f"{self.underlay[n]}/24", "dev", "eth2")
        sh("ip", "-n", host, "link", "set", "eth2", "up")
        flags = ["learning" if "learning" in p else "nolearning", *([] if "noproxy" in p else ["proxy"]),
                 *(["noudpcsum"] if "noudpcsum" in p else [])]  # fmt: skip
        sh("ip", "-n", host, "link", "add", "vx", "mtu", str(INNER_MTU), "type", "vxlan", "id", str(VNI),
           "local", self.underlay[n], "dstport", "4789", *flags)  # fmt: skip
        bridge, tap = self.bridge, self.taps[n]
        sh("ip", "-n", host, "link", "add", bridge, "mtu", str(INNER_MTU), "type", "bridge",
           *(["mcast_snooping", "0"] if "nosnoop" in p else []))  # fmt: skip
        sh("ip", "-n", host, "link", "add", tap, "mtu", str(INNER_MTU), "type", "veth", "peer", "name", "eth0", "netns", vm)
        for dev in ("vx", tap):
            sh("ip", "-n", host, "link", "set", dev, "master", bridge, "up")
        sh("ip", "-n", host, "link", "set", bridge, "up")
        sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", netns=vm)
        sh("ip", "-n", vm, "link", "set", "eth0", "address", self.macs[n], "mtu", str(INNER_MTU))
        sh("ip", "-n", vm, "addr", "add", f"{self.inner[n]}/24", "dev", "eth0")
        sh("ip", "-n", vm, "link", "set", "eth0", "up")
        if "txoff" in p:
            sh("ethtool", "-K", "eth2", "tx", "off", netns=host)
        if "threaded" in p:  # the host's underlay NIC receives in a NAPI thread of its own
            sh("ethtool", "-K", "eth2", "gro", "on", netns=host)
            sh("sh", "-c", "echo 1 > /sys/class/net/eth2/threaded", netns=host)
        if "gro" in p:
            for ns, dev in ((host, "eth2"), (host, tap), (vm, "eth0")):
                sh("ethtool", "-K", dev, "gro", "on", netns=ns)
            sh("ethtool", "-K", root_end, "gro", "on", netns=self.switch_ns)

    def agent_port(self, n: int) -> object:
        """The instance's port as the agent receives it (bench only: imports the agent's code)."""
        from neutrino.contract.desired import BoundPort, FixedIP, SecurityRule

        group = "b0000000-0000-4000-8000-000000000000"
        rules = tuple(SecurityRule(group, direction, "IPv4", proto, None, None, ())
                      for direction, proto in (("egress", None), ("ingress", "tcp"), ("ingress", "icmp")))  # fmt: skip
        ip = FixedIP("c0000000-0000-4000-8000-000000000000", self.inner[n], self.inner[n].rsplit(".", 1)[0] + ".0/24", None)
        return BoundPort(self.port_ids[n], self.net_id, self.macs[n], True, "compute:nova", "vm", "bridge", None,
                         (ip,), True, (group,), rules, (), 1)  # fmt: skip

    def down(self) -> None:
        if not self.switch_ns:
            sh("ip", "link", "del", self.switch, check=False)
        for ns in self.namespaces:
            sh("ip", "netns", "del", ns, check=False)

    def measure(self, seconds: float) -> tuple[float, float]:
        return iperf(self.vms[0], self.vms[1], self.inner[1], seconds)


class BareVeth:
    """The bench's ceiling, as bench/dataplane.py builds it."""

    def __init__(self, run: str, prefix: str = "hb") -> None:
        """``prefix``: of the two namespaces' names (each hand-built bench has its own)."""
        self.ns = [f"{prefix}{run}-a", f"{prefix}{run}-b"]

    def up(self) -> None:
        a, b = self.ns
        for ns in self.ns:
            sh("ip", "netns", "add", ns)
        sh("ip", "-n", a, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", b)
        for ns, ip in ((a, "10.99.0.1/24"), (b, "10.99.0.2/24")):
            sh("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", netns=ns)
            sh("ip", "-n", ns, "addr", "add", ip, "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")

    def down(self) -> None:
        for ns in self.ns:
            sh("ip", "netns", "del", ns, check=False)

    def measure(self, seconds: float) -> tuple[float, float]:
        return iperf(self.ns[0], self.ns[1], "10.99.0.2", seconds)


class Existing:
    """A pair someone else built (``--also``): measured, never changed."""

    def __init__(self, client_ns: str, server_ns: str, server_ip: str) -> None:
        self.args = (client_ns, server_ns, server_ip.split("/")[0])

    def up(self) -> None:
        pass

    def down(self) -> None:
        pass

    def measure(self, seconds: float) -> tuple[float, float]:
        return iperf(*self.args, seconds)


class Measured(Protocol):
    def up(self) -> None: ...
    def down(self) -> None: ...
    def measure(self, seconds: float) -> tuple[float, float]: ...


def measure_rounds(bare: Measured, paths: dict[str, Any], rounds: int,
                   seconds: float) -> dict[str, list[tuple[tuple[float, float], tuple[float, float]]]]:  # fmt: skip
    """Per path, ``rounds`` times: (the path's measurement, the bare veth's measured just before
    it). Everything is brought up first and down at the end, also on failure (``down`` copes
    with what never came up)."""
    samples: dict[str, list[tuple[tuple[float, float], tuple[float, float]]]] = {v: [] for v in paths}
    try:
        bare.up()
        for path in paths.values():
            path.up()
        for _ in range(rounds):
            for variant, path in paths.items():
                base = bare.measure(seconds)
                samples[variant].append((path.measure(seconds), base))
    finally:
        for path in paths.values():
            path.down()
        bare.down()
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", help="base, or pieces joined by + (" + ", ".join(PIECES) + ")")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--also", action="append", default=[], metavar="LABEL=CLIENT_NS,SERVER_NS,SERVER_IP",
                        help="also measure a pair already up (a lab's instances), beside the others")
    args = parser.parse_args()
    run = uuid.uuid4().hex[:3]
    bare = BareVeth(run)
    paths: dict[str, Path | Existing] = {v: Path(run, i, [] if v == "base" else v.split("+")) for i, v in enumerate(args.variants)}
    for spec in args.also:
        label, _, rest = spec.partition("=")
        paths[label] = Existing(*rest.split(","))
    samples = measure_rounds(bare, paths, args.rounds, args.seconds)
    print(f"{args.rounds} rounds of {args.seconds:g} s; ratios: median of (path / the bare veth measured just before it);"
          " CPU: ms per GB of both iperf3 processes and ksoftirqd, ratio bare / path")  # fmt: skip
    print(f"{'variant':<32}{'Gb/s':>7}{'x bare':>8}{'(min-max)':>12}{'ms/GB':>7}{'bare':>6}{'x bare':>8}{'(min-max)':>12}")
    for variant, runs in samples.items():
        ratios = [g / b if b else 0.0 for (g, _), (b, _) in runs]
        cpu = [bc / c if c else 0.0 for (_, c), (_, bc) in runs]
        print(f"{variant:<32}{median([g for (g, _), _ in runs]):>7.2f}{median(ratios):>8.2f}{f'{min(ratios):.2f}-{max(ratios):.2f}':>12}"
              f"{median([c for (_, c), _ in runs]):>7.0f}{median([bc for _, (_, bc) in runs]):>6.0f}{median(cpu):>8.2f}"
              f"{f'{min(cpu):.2f}-{max(cpu):.2f}':>12}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
