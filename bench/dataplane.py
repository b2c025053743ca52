"""One TCP stream between instances on two computes, per dataplane path, beside a bare veth.

Paths: a bare veth pair between two namespaces (the machine's ceiling); Open vSwitch VLAN and
VXLAN (the hybrid plug, the userspace datapath where the kernel has no openvswitch module); Linux
bridge flat and VXLAN (kernel bridges and the kernel's VXLAN). Each with security groups (the
default group, both instances members) and without (port security off). Two labs, one after the
other, each of a controller and two computes (static addresses, no DHCP), so that the Linux
bridge lab keeps checksum offload (docs/dataplane.md, "The linuxbridge mechanism"). iperf3 from
Debian's package, one stream, ``--seconds`` each. Targets (issue 14): Linux bridge VXLAN with
security groups at least 0.8x of bare veth; OVS paths no slower than the recipe's hand-built
OVS userspace figure (about 1.0 Gb/s, TX checksum off). The OVS lab's agents run with
``userspace_tso_ports`` (no router joins its networks): instances on the VLAN network hand OVS
offloaded TCP (docs/dataplane.md, "Userspace TSO"). Usage: ``./dev bench dataplane [--json] [--seconds N]`` as
root. Figures depend on the machine and its load; nothing asserts them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(tempfile.mkdtemp(prefix="nt-bench-", dir="/tmp"))
ROOT.chmod(0o755)
os.environ["NEUTRINO_LAB_DIR"] = str(ROOT)

from neutrino.dataplane import exec as programs  # noqa: E402
from neutrino.lab import cloud, instances, realize, state, teardown, topology  # noqa: E402
from neutrino.lab.api import LabApi  # noqa: E402

OVS_RECIPE_GBPS = 1.0  # the recipe's hand-built OVS userspace figure (two namespaces on one bridge, TX off)


def iperf(client_ns: str, server_ns: str, server_ip: str, seconds: float) -> float:
    """Gb/s of one TCP stream from ``client_ns`` to ``server_ns``."""
    programs.run(["iperf3", "-s", "-1", "-D", "-p", "5201"], netns=server_ns)
    import time

    time.sleep(0.3)
    done = programs.run(["iperf3", "-c", server_ip, "-p", "5201", "-t", str(seconds), "-J"], netns=client_ns,
                        timeout=seconds + 20, check=False)  # fmt: skip
    try:
        return float(json.loads(done.stdout)["end"]["sum_received"]["bits_per_second"]) / 1e9
    except (ValueError, KeyError):
        return 0.0


def bare_veth(seconds: float) -> float:
    a, b = "nt-bench-va", "nt-bench-vb"
    try:
        for ns in (a, b):
            programs.run(["ip", "netns", "add", ns])
        programs.run(["ip", "-n", a, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", b])
        for ns, ip in ((a, "10.99.0.1/24"), (b, "10.99.0.2/24")):
            programs.run(["ip", "-n", ns, "addr", "add", ip, "dev", "eth0"])
            programs.run(["ip", "-n", ns, "link", "set", "eth0", "up"])
            programs.run(["ip", "-n", ns, "link", "set", "lo", "up"])
        return iperf(a, b, "10.99.0.2", seconds)
    finally:
        for ns in (a, b):
            programs.run(["ip", "netns", "del", ns], check=False)


def lab_file(mechanism: str) -> topology.LabFile:
    doc: dict[str, Any] = {
        "defaults": {"mechanism": mechanism},
        "external_network": None,
        "hosts": {"controller": {"roles": ["controller"]}, "compute1": {"roles": ["compute"]},
                  "compute2": {"roles": ["compute"]}},
    }  # fmt: skip
    if mechanism == "openvswitch":  # no router here (docs/dataplane.md, "Userspace TSO")
        doc["agents"] = {"userspace_tso_ports": True}
    return topology.parse(doc)


def pair(lab: Any, api: LabApi, net: dict[str, Any], tag: str, secured: bool) -> tuple[Any, Any]:
    vms = []
    for n, host in ((1, "compute1"), (2, "compute2")):
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


def run_lab(mechanism: str, seconds: float) -> dict[str, float]:
    name = "bdp" + mechanism[:2]
    out: dict[str, float] = {}
    try:
        lab = realize.up(lab_file(mechanism), name=name).lab
        cloud.start(lab)
        api = LabApi(lab)
        nets = {}
        first = ("vlan", {"provider:network_type": "vlan", "provider:physical_network": "physnet1",
                          "provider:segmentation_id": 100}) if mechanism == "openvswitch" else (
                 "flat", {"provider:network_type": "flat", "provider:physical_network": "physnet1"})  # fmt: skip
        for kind, provider in (first, ("vxlan", {"provider:network_type": "vxlan"})):
            net = api.request("POST", "networks", {"network": {"name": kind, **provider}})["network"]
            cidr = "10.51.0.0/24" if kind == "vxlan" else "10.50.0.0/24"
            api.request("POST", "subnets", {"subnet": {"network_id": net["id"], "cidr": cidr, "ip_version": 4,
                                                       "enable_dhcp": False}})  # fmt: skip
            nets[kind] = net
        label = "OVS" if mechanism == "openvswitch" else "linuxbridge"
        for kind, net in nets.items():
            for secured in (False, True):
                a, b = pair(lab, api, net, f"{kind[:2]}{'s' if secured else 'n'}", secured)
                wait_active(api, [a, b])
                programs.run(["ping", "-c", "3", "-i", "0.2", "-W", "1", b.ip.split("/")[0]], netns=a.netns, check=False)
                gbps = iperf(a.netns, b.netns, b.ip.split("/")[0], seconds)
                out[f"{label} {kind}{' + security groups' if secured else ''}"] = gbps
    finally:
        if name in state.labs():
            cloud.stop(state.load(name))
        teardown.down(name)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    try:
        results = {"bare veth": bare_veth(args.seconds)}
        results.update(run_lab("openvswitch", args.seconds))
        results.update(run_lab("linuxbridge", args.seconds))
    finally:
        shutil.rmtree(ROOT, ignore_errors=True)
    base = results["bare veth"] or 1.0
    if args.json:
        print(json.dumps({k: {"gbps": round(v, 2), "ratio": round(v / base, 3)} for k, v in results.items()}, indent=2))
        return 0
    print(f"{'path':<40}{'Gb/s':>8}{'x veth':>9}  target")
    for path, gbps in results.items():
        target = ""
        if path == "linuxbridge vxlan + security groups":
            target = f">= 0.80x: {'met' if gbps / base >= 0.8 else 'NOT met'}"
        elif path.startswith("OVS"):
            target = f">= {OVS_RECIPE_GBPS} Gb/s (recipe): {'met' if gbps >= OVS_RECIPE_GBPS else 'NOT met'}"
        print(f"{path:<40}{gbps:>8.2f}{gbps / base:>9.2f}  {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
