"""Time and memory to bring labs up and down: the default (seed) lab, then 10 and 20 computes.

What it measures, for each lab: wall time of ``up`` (namespaces, underlay wires, one
ovsdb-server + ovs-vswitchd per host, Neutron's bridges, tunnel addresses; returns when
ready), wall time of ``down`` (daemons by pidfile, namespaces, root links, state), the
resident memory of all the lab's OVS daemons (VmRSS summed from /proc) and of this process.
Then, on the default lab, the time to plug 4 instances the hybrid way (tap, qbr, qvb/qvo on
br-int). Compared with building it by hand in shell (3 hosts with 4 instances in 1.34 s,
docs/dataplane.md) and the target
(default lab up in under 5 s).

Usage: ``./dev bench lab [--json]`` as root. Uses a private state directory and removes
every lab it builds, also on failure. Takes about half a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(tempfile.mkdtemp(prefix="nt-bench-", dir="/tmp"))
ROOT.chmod(0o755)  # dnsmasq reads its files as nobody
os.environ["NEUTRINO_LAB_DIR"] = str(ROOT)

from neutrino.dataplane.ovs import OvsInstance  # noqa: E402
from neutrino.lab import instances, realize, teardown, topology  # noqa: E402


def rss_kib(pid: int | None) -> int:
    if not pid:
        return 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def lab_with_computes(n: int) -> topology.LabFile:
    hosts: dict[str, Any] = {"controller": {"roles": ["controller"]}, "network": {"roles": ["network"]}}
    hosts.update({f"compute{i}": {"roles": ["compute"]} for i in range(1, n + 1)})
    return topology.parse({"hosts": hosts})


def measure(label: str, lab_file: topology.LabFile, name: str, plug: bool) -> dict[str, Any]:
    try:
        t0 = time.monotonic()
        lab = realize.up(lab_file, name=name, root=ROOT).lab
        up_s = time.monotonic() - t0
        ovs_hosts = [h for h in lab.hosts if h.has_ovs]
        ovs_kib = sum(rss_kib(p) for h in ovs_hosts for p in OvsInstance(h.context).pids().values())
        plug_s = None
        if plug:
            t0 = time.monotonic()
            for i, host in enumerate(("compute1", "compute1", "compute2", "compute2"), 1):
                instances.create(lab, f"vm{i}", host=host, mac=f"fa:16:3e:00:00:{i:02x}", ip=f"10.0.0.{i}/24", tag=1)
            plug_s = time.monotonic() - t0
    finally:
        t0 = time.monotonic()
        teardown.down(name, root=ROOT)
        down_s = time.monotonic() - t0
    return {
        "lab": label,
        "hosts": len(lab.hosts),
        "ovs_instances": len(ovs_hosts),
        "up_s": round(up_s, 3),
        "plug_4_instances_s": None if plug_s is None else round(plug_s, 3),
        "down_s": round(down_s, 3),
        "ovs_rss_mib": round(ovs_kib / 1024, 1),
        "ovs_rss_per_host_mib": round(ovs_kib / 1024 / max(1, len(ovs_hosts)), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    realize.preflight()
    rows = []
    try:
        rows.append(measure("default (seed)", topology.default_lab(), "bseed", plug=True))
        rows.append(measure("10 computes", lab_with_computes(10), "b10", plug=False))
        rows.append(measure("20 computes", lab_with_computes(20), "b20", plug=False))
    finally:
        shutil.rmtree(ROOT, ignore_errors=True)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.json:
        print(json.dumps({"labs": rows, "bench_process_peak_rss_mib": round(peak_mib, 1)}, indent=2))
        return 0
    print(f"{'lab':<16}{'hosts':>6}{'OVS':>5}{'up s':>8}{'4 VMs s':>9}{'down s':>8}{'OVS RSS MiB':>13}{'per host':>10}")
    for r in rows:
        vms = "-" if r["plug_4_instances_s"] is None else f"{r['plug_4_instances_s']:.2f}"
        print(f"{r['lab']:<16}{r['hosts']:>6}{r['ovs_instances']:>5}{r['up_s']:>8.2f}{vms:>9}{r['down_s']:>8.2f}"
              f"{r['ovs_rss_mib']:>13.1f}{r['ovs_rss_per_host_mib']:>10.1f}")  # fmt: skip
    seed = rows[0]
    total = seed["up_s"] + (seed["plug_4_instances_s"] or 0)
    print(f"\ndefault lab up: {seed['up_s']:.2f} s (target < 5 s: {'met' if seed['up_s'] < 5 else 'NOT met'}); "
          f"up + 4 instances {total:.2f} s vs 1.34 s by hand in shell for 3 hosts and 4 instances")  # fmt: skip
    print(f"this process's peak RSS: {peak_mib:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
