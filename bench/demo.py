"""Wall time of ``neutrino lab demo`` from nothing, and port creation to DHCP lease.

Runs the demo in a private state directory under a unique lab name, prints its phases (lab up,
server and agents, scenario through the API, checks), the time from each instance's API port
creation to its DHCP lease (port create, bind, plug, agents wire it, dnsmasq answers, udhcpc
applies it), then removes the lab. Target (issue 6): the demo under 30 s from nothing with the
default bus, versus the tens of minutes a DevStack install takes. ``--bus rabbitmq --db
postgresql`` measures the distributed variant. Usage: ``./dev bench demo [--json] [--bus B --db D]``
as root.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(tempfile.mkdtemp(prefix="nt-bench-", dir="/tmp"))
ROOT.chmod(0o755)  # dnsmasq reads its files as nobody
os.environ["NEUTRINO_LAB_DIR"] = str(ROOT)

from neutrino.lab import cloud, demo, process_control, state, teardown  # noqa: E402

AGENT_RSS_GOAL_MIB = 60  # issue 10: one agent process, no SQLAlchemy loaded


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--bus", choices=["http", "rabbitmq"], default="http")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    name = "bdemo"
    try:
        result = demo.run(name, bus=args.bus, db=args.db)
        doc = {"ok": result.ok, "seconds": {k: round(v, 2) for k, v in result.seconds.items()},
               "port_create_to_lease_s": result.facts["port_create_to_lease_s"],
               "checks_passed": sum(c.ok for c in result.checks), "checks": len(result.checks),
               "processes": [{k: p[k] for k in ("name", "node", "pid", "rss_mib")}
                             for p in process_control.processes(result.lab)]}  # fmt: skip
    finally:
        if name in state.labs():
            cloud.stop(state.load(name))
        teardown.down(name)
        shutil.rmtree(ROOT, ignore_errors=True)
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    s = doc["seconds"]
    target = f"target < 30 s: {'met' if s['total'] < 30 else 'NOT met'}" if args.bus == "http" else "no target"
    print(f"lab demo ({args.bus} bus, {args.db}) from nothing: {s['total']:.1f} s ({target}); "
          f"checks {doc['checks_passed']}/{doc['checks']} passed")  # fmt: skip
    for k in ("lab up", "server and agents", "scenario", "checks"):
        print(f"  {k:<20}{s[k]:>6.1f} s")
    leases = doc["port_create_to_lease_s"]
    print("port creation to DHCP lease (API port, bind, plug, wiring, dnsmasq, udhcpc): "
          + ", ".join(f"{k} {v:.2f} s" for k, v in leases.items()))  # fmt: skip
    print("processes (resident memory after the demo):")
    for proc in doc["processes"]:
        rss = proc["rss_mib"]
        goal = f"  (goal < {AGENT_RSS_GOAL_MIB} MiB: {'met' if rss < AGENT_RSS_GOAL_MIB else 'NOT met'})" \
            if rss is not None and proc["name"].startswith("agent") else ""
        print(f"  {proc['name']:<18}{proc['node']:<18}{'-' if rss is None else f'{rss:.1f} MiB'}{goal}")
    return 0 if doc["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
