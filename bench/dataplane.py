"""One TCP stream between instances on two computes, per dataplane path, beside a bare veth.

Paths: a bare veth pair between two namespaces (the machine's ceiling); Open vSwitch VLAN and
VXLAN (the hybrid plug, the userspace datapath where the kernel has no openvswitch module); Linux
bridge flat and VXLAN (kernel bridges and the kernel's VXLAN). Each with security groups (the
default group, both instances members) and without (port security off), and the same filtered
pair on two more computes whose agents run no firewall at all (the lab file's per-host
``agents: {firewall: false}``, Neutron's noop driver): "the same path with no firewall" of
issue 14, as a lab builds it. Two labs, one after the other, each of a controller and four
computes (static addresses, no DHCP), so that the Linux bridge lab keeps checksum offload
(docs/dataplane.md, "The linuxbridge mechanism"). iperf3 from Debian's package, one stream,
``--seconds`` each. Targets (issue 14): Linux bridge VXLAN with security groups at least 0.8x
of bare veth and of the same path with no firewall; OVS paths no slower than the recipe's
hand-built OVS userspace figure (about 1.0 Gb/s, TX checksum off). The OVS lab's agents run with
``userspace_tso_ports`` (no router joins its networks): instances on the VLAN network hand OVS
offloaded TCP (docs/dataplane.md, "Userspace TSO"). Usage: ``./dev bench dataplane [--json]
[--seconds N] [--rounds N] [--only MECHANISM] [--ovs-mtu N] [--ovs-firewall DRIVER]...
[--ovs-port-type TYPE]... [--handbuilt VARIANT]... [--ovs-handbuilt VARIANT]...
[--separate-networks]`` as root: ``--ovs-firewall`` (repeatable) picks the OVS lab's agents'
firewall drivers, one lab each, one after the other: ``iptables_hybrid`` (the default: the
hybrid plug, nftables on the qbr), ``noop`` (instances plugged straight on br-int, no security
groups) or ``openvswitch`` (plugged straight, security groups as OpenFlow with OVS conntrack);
``--ovs-port-type`` (repeatable; with ``--ovs-firewall``, one lab per pair) ``system``
(AF_PACKET, the default) or ``afxdp`` (the lab file's ``ovs_port_type``: AF_XDP ports where the
lab can use them, docs/dataplane.md, "AF_XDP ports"); ``--ovs-mtu 9000`` gives the OVS lab a
jumbo underlay (its VXLAN network then has MTU 8950: fewer, larger packets through the
userspace datapath, docs/dataplane.md, "Performance of the userspace datapath"); ``--handbuilt`` adds
bench/lb_handbuilt.py's hand-built VXLAN path (``base``, or the lab's pieces joined by ``+``) to
the Linux bridge lab's run, ``--ovs-handbuilt`` adds bench/ovs_handbuilt.py's hand-built OVS
paths (``one-bridge``, ``vxlan``, ``vlan``, optionally ``+tso`` or ``+afxdp``) to each OVS lab's run (their
CPU: their own vswitchds'; with ``one-bridge``, each of the lab's OVS rows also shows its
per-round ratio to it), ``--separate-networks`` puts the pairs without security groups on
networks of their own (docs/dataplane.md, "Throughput"). Figures depend on the machine and its
load; nothing asserts them.

Like with like: the bare veth pair stays up for the whole run, and each path's measurement is
paired with a bare veth measurement taken just before it (same lab up, same load), ``--rounds``
times; a path's ratio is the median of its per-round ratios, and the table shows their spread.
A filtered path is measured right after its no-firewall twin in each round, and its ratio to it
is the median of those per-round ratios too (bench/dataplane_table.py).
On a shared machine the load changes within seconds, so a baseline measured once at the start
(as before) could halve or double a ratio on its own (docs/dataplane.md, "Throughput").
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(tempfile.mkdtemp(prefix="nt-bench-", dir="/tmp"))
ROOT.chmod(0o755)
atexit.register(shutil.rmtree, ROOT, ignore_errors=True)  # also after --help or a usage error
os.environ["NEUTRINO_LAB_DIR"] = str(ROOT)

from neutrino.dataplane import exec as programs  # noqa: E402
from neutrino.dataplane.ovs import OvsInstance  # noqa: E402
from neutrino.lab import cloud, instances, realize, state, teardown, topology  # noqa: E402
from neutrino.lab.api import LabApi  # noqa: E402

from dataplane_table import NO_FIREWALL, SECURED, Sample, median, summary, table  # noqa: E402
from ovs_handbuilt import cpu_seconds  # noqa: E402

RUN = uuid.uuid4().hex[:5]
"""In every name this run creates: two benches at once (another checkout) must not share a lab or
a namespace, or one's teardown removes the other's."""


REFERENCES: dict[str, str] = {}
"""An OVS lab path -> the hand-built one-bridge row measured in the same rounds (``--ovs-handbuilt
one-bridge``): issue 14's OVS comparison without days between the two."""

CPU_PER_GB: dict[str, list[float]] = {}
"""Per path: CPU seconds per GB carried (the two iperf3s and the lab's vswitchds), per round:
steadier than Gb/s on a loaded machine (docs/dataplane.md, "Throughput")."""


def iperf(client_ns: str, server_ns: str, server_ip: str, seconds: float, path: str = "",
          pids: tuple[int, ...] = ()) -> float:  # fmt: skip
    """Gb/s of one TCP stream from ``client_ns`` to ``server_ns``; with ``path``, its CPU per GB
    (iperf3's own, and that of ``pids``: the vswitchds) goes to ``CPU_PER_GB``."""
    import time

    from neutrino.dataplane.errors import CommandTimeout
    from ovs_handbuilt import stop_server

    pidfile = ROOT / "iperf3-server.pid"
    programs.run(["iperf3", "-s", "-1", "-D", "-p", "5201", "-I", str(pidfile)], netns=server_ns)
    time.sleep(0.3)
    cpu_before = cpu_seconds(pids)
    try:
        stdout = programs.run(["iperf3", "-c", server_ip, "-p", "5201", "-t", str(seconds), "-J"], netns=client_ns,
                              timeout=seconds + 20, check=False).stdout  # fmt: skip
    except CommandTimeout:  # a path that drops everything (OVS 3.1's VXLAN with userspace TSO)
        stdout = ""
    finally:
        stop_server(pidfile)  # a server no client reached would wait for good
    try:
        end = json.loads(stdout)["end"]
        received = end["sum_received"]
        if path and received["bytes"]:
            own = (end["cpu_utilization_percent"]["host_total"] + end["cpu_utilization_percent"]["remote_total"]) / 100
            cpu = own * received["seconds"] + cpu_seconds(pids) - cpu_before
            CPU_PER_GB.setdefault(path, []).append(cpu / (received["bytes"] / 1e9))
        return float(received["bits_per_second"]) / 1e9
    except (ValueError, KeyError):
        return 0.0


BARE = (f"nt-bench-{RUN}-a", f"nt-bench-{RUN}-b")


def bare_veth_up() -> None:
    """The machine's ceiling: a veth pair between two namespaces, set up as an instance's eth0
    is (IPv6 off, offloads at their defaults: on), kept for the whole run."""
    a, b = BARE
    for ns in (a, b):
        programs.run(["ip", "netns", "add", ns])
    programs.run(["ip", "-n", a, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", b])
    for ns, ip in ((a, "10.99.0.1/24"), (b, "10.99.0.2/24")):
        programs.run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
        programs.run(["ip", "-n", ns, "addr", "add", ip, "dev", "eth0"])
        programs.run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        programs.run(["ip", "-n", ns, "link", "set", "lo", "up"])


def bare_veth_down() -> None:
    for ns in BARE:
        programs.run(["ip", "netns", "del", ns], check=False)


def bare_veth(seconds: float) -> float:
    return iperf(BARE[0], BARE[1], "10.99.0.2", seconds)


def lab_file(mechanism: str, mtu: int = 1500, driver: str = "iptables_hybrid", port_type: str = "system") -> topology.LabFile:
    """``mtu``: of the lab's underlay links, and so the server's ``global_physnet_mtu``;
    ``port_type``: the lab file's ``ovs_port_type`` (AF_PACKET or AF_XDP)."""
    doc: dict[str, Any] = {
        "defaults": {"mechanism": mechanism, "mtu": mtu, "ovs_port_type": port_type},
        "external_network": None,
        "hosts": {"controller": {"roles": ["controller"]}, "compute1": {"roles": ["compute"]},
                  "compute2": {"roles": ["compute"]},
                  # the same path with no firewall: Neutron's noop driver on these two only
                  "compute3": {"roles": ["compute"], "agents": {"firewall": False}},
                  "compute4": {"roles": ["compute"], "agents": {"firewall": False}}},
    }  # fmt: skip
    if mechanism == "openvswitch":  # no router here (docs/dataplane.md, "Userspace TSO")
        doc["agents"] = {"userspace_tso_ports": True}
        if driver != "iptables_hybrid":  # the binding says no hybrid plug: taps go straight on br-int
            doc["agents"]["firewall_driver"] = driver
    return topology.parse(doc)


def pair(lab: Any, api: LabApi, net: dict[str, Any], tag: str, secured: bool,
         hosts: tuple[str, str] = ("compute1", "compute2")) -> tuple[Any, Any]:  # fmt: skip
    """Two instances on ``hosts``, their ports in the default group (``secured``) or without
    port security."""
    vms = []
    for n, host in zip((1, 2), hosts):
        body: dict[str, Any] = {"network_id": net["id"], "name": f"{tag}{n}"}
        if not secured:
            body.update(port_security_enabled=False, security_groups=[])
        port = api.request("POST", "ports", {"port": body})["port"]
        vms.append(instances.create_from_api(lab, f"{tag}{n}", port_id=port["id"], host=host, dhcp=False))
    return vms[0], vms[1]


def wait_active(api: LabApi, vms: list[Any], timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = {p["id"]: p["status"] for p in api.request("GET", "ports")["ports"]}
        if all(status.get(vm.port_id) == "ACTIVE" for vm in vms):
            return
        time.sleep(0.2)


def run_lab(mechanism: str, seconds: float, rounds: int, handbuilt: tuple[str, ...] = (),
            separate: bool = False, mtu: int = 1500, driver: str = "iptables_hybrid",
            ovs_handbuilt: tuple[str, ...] = (), several: bool = False,
            port_type: str = "system") -> dict[str, list[Sample]]:  # fmt: skip
    """``handbuilt``: bench/lb_handbuilt.py variants measured beside the Linux bridge lab's
    paths; ``separate``: the pairs without security groups on networks of their own (so that
    no filtered port shares their bridge); ``mtu``: the lab's underlay MTU; ``driver``: the OVS
    agents' firewall driver (noop: no pairs with security groups); ``ovs_handbuilt``:
    bench/ovs_handbuilt.py variants measured beside the OVS lab's paths, in its rounds (their
    rows name the lab when ``several`` OVS labs run, one after the other); ``port_type``: the OVS
    lab's ``ovs_port_type`` (``afxdp``: its rows say AF_XDP)."""
    import lb_handbuilt
    import ovs_handbuilt as ovs_hb
    from types import SimpleNamespace

    kind = "x" if port_type == "afxdp" else "d"
    name = f"b{kind}{driver[0] if mechanism == 'openvswitch' else mechanism[0]}{RUN}"  # 8 characters, the lab name's limit
    out: dict[str, list[Sample]] = {}
    built = [lb_handbuilt.Path(RUN[:3], i, [] if v == "base" else v.split("+")) for i, v in enumerate(handbuilt)]
    ovs_built: list[Any] = []
    try:
        lab = realize.up(lab_file(mechanism, mtu, driver, port_type), name=name).lab
        cloud.start(lab)
        api = LabApi(lab)
        nets: dict[tuple[str, bool | None], Any] = {}
        first = ("vlan", {"provider:network_type": "vlan", "provider:physical_network": "physnet1",
                          "provider:segmentation_id": 100}) if mechanism == "openvswitch" else (
                 "flat", {"provider:network_type": "flat", "provider:physical_network": "physnet1"})  # fmt: skip
        for kind, provider in (first, ("vxlan", {"provider:network_type": "vxlan"})):
            for secured in (False, True) if separate and kind != "vlan" else (None,):
                if kind == "flat" and secured is True:  # one flat network per physical network
                    nets[(kind, True)] = nets[(kind, False)]
                    continue
                net = api.request("POST", "networks", {"network": {"name": kind, **provider}})["network"]
                cidr = f"10.{51 if kind == 'vxlan' else 50}.{int(bool(secured))}.0/24"
                api.request("POST", "subnets", {"subnet": {"network_id": net["id"], "cidr": cidr, "ip_version": 4,
                                                           "enable_dhcp": False}})  # fmt: skip
                nets[(kind, secured)] = net
        labels = {"iptables_hybrid": "OVS", "noop": "OVS direct", "openvswitch": "OVS ovsfw"}
        label = labels[driver] + (" AF_XDP" if port_type == "afxdp" else "") if mechanism == "openvswitch" else "linuxbridge"
        jumbo = {"vlan": f" (MTU {mtu})", "vxlan": f" (MTU {mtu - 50})"} if mtu != 1500 else {}
        pairs: dict[str, Any] = {}
        for kind in dict.fromkeys(k for k, _ in nets):
            # in this order, so that each round measures the filtered pair right after its twin;
            # a noop lab filters nothing anywhere: its unfiltered pair is the only one
            plain = ("n", False, ("compute1", "compute2"), "")
            rows = (plain,) if driver == "noop" else (plain, ("f", True, ("compute3", "compute4"), NO_FIREWALL),
                                                      ("s", True, ("compute1", "compute2"), SECURED))  # fmt: skip
            for tag, secured, hosts, row in rows:
                net = nets.get((kind, secured), nets.get((kind, None)))
                a, b = pair(lab, api, net, f"{kind[:2]}{tag}", secured, hosts)
                wait_active(api, [a, b])
                programs.run(["ping", "-c", "3", "-i", "0.2", "-W", "1", b.ip.split("/")[0]], netns=a.netns, check=False)
                pairs[f"{label} {kind}{row}{jumbo.get(kind, '')}"] = (a, b)
        for host in ("compute1", "compute3"):  # the rows mean what they say: tables on 1, none on 3
            tables = programs.run(["nft", "list", "tables"], netns=lab.host(host).netns).stdout.split()
            print(f"{label}: {host}'s nftables tables: {', '.join(tables[2::3]) or 'none'}", file=sys.stderr)
        for variant, path in zip(handbuilt, built):
            path.up()
            vm = [SimpleNamespace(netns=ns, ip=ip) for ns, ip in zip(path.vms, path.inner)]
            pairs[f"hand-built vxlan ({variant})"] = (vm[0], vm[1])
        switches = [OvsInstance(h.context).pids()["ovs-vswitchd"] for h in lab.hosts if h.has_ovs]
        pids = {path: tuple(pid for pid in switches if pid) for path in pairs}
        if mechanism == "openvswitch":
            lab_rows = list(pairs)
            for i, variant in enumerate(ovs_handbuilt):  # their CPU: their own vswitchds'
                ovs_built.append(ovs_hb.OvsPath(f"{RUN[:3]}{driver[0]}", i, variant))
                ovs_built[-1].up()
                vm = [SimpleNamespace(netns=ns, ip=ip) for ns, ip in zip(ovs_built[-1].vms, ovs_built[-1].inner)]
                row = ovs_hb.row_label(variant) + (f" [{label} run]" if several else "")
                pairs[row] = (vm[0], vm[1])
                pids[row] = ovs_built[-1].pids()
                if variant == "one-bridge":
                    REFERENCES.update(dict.fromkeys(lab_rows, row))
        for _ in range(rounds):
            for path, (a, b) in pairs.items():
                base = bare_veth(seconds)
                out.setdefault(path, []).append((iperf(a.netns, b.netns, b.ip.split("/")[0], seconds, path, pids[path]), base))
    finally:
        for path in built:
            path.down()
        for ovs_path in ovs_built:
            ovs_path.down()
        if name in state.labs():
            cloud.stop(state.load(name))
        teardown.down(name)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=("openvswitch", "linuxbridge"), help="one mechanism's lab only")
    parser.add_argument("--handbuilt", action="append", default=[], metavar="VARIANT",
                        help="with the Linux bridge lab, also a hand-built VXLAN path (bench/lb_handbuilt.py: base, "
                             "or pieces joined by +)")
    parser.add_argument("--ovs-handbuilt", action="append", default=[], metavar="VARIANT",
                        help="with each OVS lab, also a hand-built OVS path in its rounds (bench/ovs_handbuilt.py: "
                             "one-bridge, vxlan or vlan, each optionally +tso)")
    parser.add_argument("--separate-networks", action="store_true",
                        help="pairs without security groups on networks of their own (their bridges then carry "
                             "no filtered port and are not tracked)")
    parser.add_argument("--ovs-firewall", action="append", choices=("iptables_hybrid", "noop", "openvswitch"),
                        help="the OVS lab's firewall driver (repeat for one lab each; default iptables_hybrid)")
    parser.add_argument("--ovs-port-type", action="append", choices=("system", "afxdp"),
                        help="how the OVS lab's vswitchds read instances' ports and wires: AF_PACKET (system, the "
                             "default) or AF_XDP where safe (repeat for one lab each)")
    parser.add_argument("--ovs-mtu", type=int, default=1500,
                        help="underlay MTU of the OVS lab (and its server's global_physnet_mtu): 9000 for a jumbo underlay")  # fmt: skip
    args = parser.parse_args()
    import ovs_handbuilt

    for variant in args.ovs_handbuilt:
        try:
            ovs_handbuilt.parse_variant(variant)
        except ValueError as exc:
            parser.error(str(exc))
    samples: dict[str, list[Sample]] = {}
    try:
        bare_veth_up()
        for mechanism in ("openvswitch", "linuxbridge"):
            if args.only in (None, mechanism):
                extra = tuple(args.handbuilt) if mechanism == "linuxbridge" else ()
                mtu = args.ovs_mtu if mechanism == "openvswitch" else 1500
                drivers = args.ovs_firewall or ["iptables_hybrid"]
                port_types = args.ovs_port_type or ["system"]
                ovs_extra = tuple(args.ovs_handbuilt) if mechanism == "openvswitch" else ()
                ovs_labs = [(d, t) for d in drivers for t in port_types]
                for driver, port_type in ovs_labs if mechanism == "openvswitch" else [("iptables_hybrid", "system")]:
                    samples.update(run_lab(mechanism, args.seconds, args.rounds, extra, args.separate_networks, mtu, driver,
                                           ovs_extra, len(ovs_labs) > 1, port_type))  # fmt: skip
    finally:
        bare_veth_down()
        shutil.rmtree(ROOT, ignore_errors=True)
    results = summary(samples, REFERENCES)
    for path, cpu in CPU_PER_GB.items():
        if path in results:
            results[path]["cpu_s_per_gb"] = median(cpu)
    if args.json:
        print(json.dumps({k: {f: round(v, 3) for f, v in r.items()} for k, r in results.items()}, indent=2))
        return 0
    print("\n".join(table(results, args.rounds, args.seconds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
