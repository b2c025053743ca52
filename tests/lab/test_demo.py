"""``neutrino lab demo``, the README's main command, run as a user runs it; every check passes,
with the default bus and database and with RabbitMQ and PostgreSQL on the controller, on Linux
bridges, on the HA lab (examples/ha.yaml: two network nodes), and with the native OVS firewall."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from neutrino.lab import teardown
from tests.lab.conftest import unique_name

pytestmark = pytest.mark.root


def run_demo(cmd: list[str], wanted: tuple[str, ...]) -> dict:
    """Run ``lab demo --json`` as a user does; assert it exits 0, every check passed and a check
    named like each of ``wanted`` ran; the JSON document."""
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    doc = json.loads(done.stdout)
    failed = [c for c in doc["checks"] if not c["ok"]]
    assert doc["ok"] and not failed, failed
    names = [c["name"] for c in doc["checks"]]
    for name in wanted:
        assert any(name in n for n in names), (name, names)
    return doc


@pytest.mark.parametrize("bus, db", [("http", "sqlite"), pytest.param("rabbitmq", "postgresql", marks=pytest.mark.broker)])
def test_lab_demo(lab_root, bus, db):
    from neutrino.dataplane import rabbitmq
    from neutrino.dataplane.postgres import PostgresCluster

    if bus == "rabbitmq" and (reason := rabbitmq.unavailable_reason() or PostgresCluster().unavailable_reason()):
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI is set but the distributed demo cannot run: {reason}", pytrace=False)
        pytest.skip(reason)
    name = unique_name()
    cmd = [sys.executable, "-m", "neutrino.cli.main", "lab", "demo", "--name", name, "--json", "--bus", bus, "--db", db]
    try:
        doc = run_demo(cmd, ("DHCP lease vm4", "vlan-net:", "vxlan-net:", "router:", "SNAT:", "DNAT:", "stays blocked",
                       "carries VID 100", "carries VXLAN VNI", "MTU: 1422", "metadata: vm4"))
        assert (doc["cloud"]["bus"], doc["cloud"]["db"]) == (bus, db)
        if bus != "http":
            return
        # a second demo on the same lab name is refused cleanly
        again = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=dict(os.environ))
        assert again.returncode == 1 and "already up" in again.stderr
    finally:
        teardown.down(name, root=lab_root)


def test_lab_demo_on_linuxbridge(lab_root):
    """The same checks on Linux bridges and kernel VXLAN (the ARP proxy on: every host is
    Linux bridge); without 8021q the first network is flat and the VID check says why it skips."""
    name = unique_name()
    cmd = [sys.executable, "-m", "neutrino.cli.main", "lab", "demo", "--name", name, "--json", "--mechanism", "linuxbridge"]
    try:
        run_demo(cmd, ("DHCP lease vm4", "vxlan-net:", "router:", "SNAT:", "DNAT:", "stays blocked",
                       "carries VXLAN VNI", "MTU: 1422"))
    finally:
        teardown.down(name, root=lab_root)


def test_lab_demo_on_the_ha_lab(lab_root):
    """The same scenario on two network nodes: the router HA (one active, one standby agent),
    each network served by two DHCP agents, and every other check as on the seed's lab."""
    name = unique_name()
    ha = Path(__file__).parents[2] / "examples" / "ha.yaml"
    cmd = [sys.executable, "-m", "neutrino.cli.main", "lab", "demo", "--file", str(ha), "--name", name, "--json"]
    try:
        run_demo(cmd, ("one active, one standby", "vlan-net: served by 2 DHCP agents",
                       "vxlan-net: served by 2 DHCP agents", "metadata: vm4", "SNAT:", "DNAT:", "carries VID 100"))
    except AssertionError as failed:  # what the network nodes saw, before teardown removes it
        raise AssertionError(f"{failed}\n{_network_nodes_record(lab_root / name)}") from None
    finally:
        teardown.down(name, root=lab_root)


def _network_nodes_record(lab_dir: Path) -> str:
    """The network nodes' keepalived state files and the ends of their agents' logs."""
    out = []
    for found in sorted(lab_dir.glob("network*/**/ha_confs/*/state")) + sorted(lab_dir.glob("network*/agent.log")):
        lines = found.read_text(errors="replace").splitlines()[-40:]
        out.append(f"--- {found.relative_to(lab_dir)}\n" + "\n".join(lines))
    return "\n".join(out) or f"nothing under {lab_dir}"


def test_lab_demo_with_af_xdp_ports(lab_root, tmp_path):
    """The seed's lab with ``ovs_port_type: afxdp``: the instances' ports and the hosts' wires
    are AF_XDP (the DHCP and router ports stay AF_PACKET), and every check passes through them:
    DHCP, metadata, VLAN tags on the wire, VXLAN, routing, SNAT, DNAT, the blocked port, the MTU."""
    seed = Path(__file__).parents[2] / "examples" / "seed.yaml"
    lab_file = tmp_path / "afxdp.yaml"
    lab_file.write_text("".join(line for line in seed.read_text().splitlines(keepends=True) if not line.startswith("name:"))
                        .replace("  mtu: 1500\n", "  mtu: 1500\n  ovs_port_type: afxdp\n"))  # fmt: skip
    assert "ovs_port_type: afxdp" in lab_file.read_text()
    name = unique_name()
    cmd = [sys.executable, "-m", "neutrino.cli.main", "lab", "demo", "--file", str(lab_file), "--name", name, "--json"]
    try:
        run_demo(cmd, ("DHCP lease vm4", "metadata: vm4", "router:", "SNAT:", "DNAT:", "stays blocked",
                       "carries VID 100", "MTU: 1422"))
    finally:
        teardown.down(name, root=lab_root)


def test_lab_demo_with_the_native_ovs_firewall(lab_root, tmp_path):
    """The seed's lab with ``firewall_driver = openvswitch``: taps straight on br-int, security
    groups as br-int flows with conntrack; DHCP, metadata, routing, SNAT, DNAT to the floating IP
    and the port that stays blocked all pass through those tables."""
    seed = Path(__file__).parents[2] / "examples" / "seed.yaml"
    lab_file = tmp_path / "ovsfw.yaml"
    lab_file.write_text("".join(line for line in seed.read_text().splitlines(keepends=True) if not line.startswith("name:"))
                        + "agents:\n  firewall_driver: openvswitch\n")  # fmt: skip
    name = unique_name()
    cmd = [sys.executable, "-m", "neutrino.cli.main", "lab", "demo", "--file", str(lab_file), "--name", name, "--json"]
    try:
        run_demo(cmd, ("DHCP lease vm4", "metadata: vm4", "router:", "SNAT:", "DNAT:", "stays blocked"))
    finally:
        teardown.down(name, root=lab_root)
