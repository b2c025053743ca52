"""The tables ``neutrino lab plan`` and ``neutrino lab status`` print (Rich), from their data."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from neutrino.cli.lab_output import OUT
from neutrino.lab import resolve


def plan_tables(lab: resolve.ResolvedLab) -> None:
    OUT.print(f"[bold]lab {lab.name}[/]  state {lab.state_dir}")
    sw = Table("switch (root namespace)", "stands for", title="underlay")
    for s in lab.switches:
        sw.add_row(s.name, s.purpose)
    OUT.print(sw)
    hosts = Table("host", "roles", "namespace", "management IP", "OVS bridges", "wires", "tunnel IP", "bridge_mappings", title="hosts")
    for h in lab.hosts:
        hosts.add_row(
            h.name,
            ",".join(h.roles),
            h.netns,
            f"{h.management_ip} (eth0)" if h.management_ip else "-",
            " ".join(h.bridges()) or ("Linux bridges (brq per network)" if h.linuxbridge else "-"),
            "\n".join(f"{w.host_end} ({w.bridge or 'kernel'}) ↔ {w.root_end} on {w.switch}" for w in h.wires) or "-",
            h.tunnel_ip or "-",
            ",".join(f"{k}:{v}" for k, v in h.bridge_mappings.items()) or "-",
        )
    OUT.print(hosts)
    if lab.management:
        OUT.print(f"management: {lab.management.cidr} on {lab.management.switch}, root namespace {lab.management.root_address}; "
                  f"the API server on {lab.controller.name} at http://{lab.controller.address}:9696")
    if lab.outside:
        OUT.print(f"outside: namespace {lab.outside.netns}, {lab.outside.interface} {lab.outside.address} on {lab.outside.wire.switch}")


def status_tables(doc: dict[str, Any]) -> None:
    health = "[green]healthy[/]" if doc["healthy"] else "[red]degraded[/]"
    OUT.print(f"[bold]lab {doc['name']}[/] {health}  state {doc['state_dir']}")
    t = Table("host", "roles", "namespace", "OVS (pids)", "bridges", "tunnel IP", title="hosts")
    for h in doc["hosts"]:
        ovs = h.get("ovs")
        if ovs is None:
            ovs_text = "-"
        else:
            pids = ovs["pids"]
            ovs_text = ("" if ovs["running"] else "[red]down[/] ") + " ".join(
                f"{k}:{v or '✗'}" for k, v in pids.items()
            )
        t.add_row(
            h["name"],
            ",".join(h["roles"]),
            h["netns"] + ("" if h["netns_present"] else " [red](missing)[/]"),
            ovs_text,
            " ".join(h.get("bridges", [])) or "-",
            h["tunnel_ip"] or "-",
        )
    OUT.print(t)
    s = Table("switch", "stands for", "present", title="underlay (root namespace)")
    for sw in doc["switches"]:
        s.add_row(sw["name"], sw["purpose"], "yes" if sw["present"] else "[red]no[/]")
    OUT.print(s)
    if doc.get("cloud"):
        c = doc["cloud"]
        OUT.print(f"API server: {c['url']}; clouds.yaml {c['clouds_yaml']}")
    if doc.get("processes"):
        p = Table("process", "node", "pid", "health", "restarts", "RSS MiB", "log", title="processes")
        for proc in doc["processes"]:
            colour = "green" if proc["health"] == "running" else ("yellow" if proc["health"] == "stopped" else "red")
            p.add_row(proc["name"], proc["node"], str(proc["pid"] or "-"), f"[{colour}]{proc['health']}[/]",
                      str(proc["restarts"]), f"{proc['rss_mib']:.0f}" if proc.get("rss_mib") else "-", proc["log"])  # fmt: skip
        OUT.print(p)
    if doc["outside"]:
        o = doc["outside"]
        OUT.print(f"outside: {o['netns']} {' '.join(o['addresses']) or o['address']}")
    if doc.get("logs"):
        lg = Table("logs of", "files (`./dev neutrino lab logs [HOST|server] [-f]`)", title="logs")
        for who, files in doc["logs"].items():
            lg.add_row(who, "\n".join(files) or "-")
        OUT.print(lg)
    if doc["instances"]:
        v = Table("instance", "host", "MAC", "IP", "port", title="instances")
        for vm in doc["instances"]:
            v.add_row(vm["name"], vm["host"], vm["mac"], vm["ip"] or "-", vm["port_id"])
        OUT.print(v)
