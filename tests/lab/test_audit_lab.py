"""The audit in a running lab (docs/audit.md): each drift class injected by hand, found by the
agents' periodic audit with what differs, repaired by ``audit --repair``, traffic (TCP and UDP)
working again, and foreign objects (an OVS bridge and port, a flow of another cookie, an
nftables table, a namespace) left untouched. Prints the time to detect and to repair.

One lab: a VXLAN network with an instance on each compute node, a router on the network node
joining it to the outside (SNAT). The agents' own passes are held off while drift is injected
(their notifications and OVSDB monitor would heal part of it at once, which is the
level-triggered design, not the audit), so that the periodic audit is what finds it.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from typing import Any

import pytest
from click.testing import CliRunner

from neutrino.dataplane import daemons
from neutrino.dataplane import exec as programs
from neutrino.dataplane.naming import QR, device, tunnel_port
from neutrino.dataplane.netlink import Netlink
from neutrino.dataplane.openflow import COOKIE
from neutrino.dataplane.ovsdb import Ovsdb
from neutrino.lab import demo, nodes, probes
from tests.lab.cloud_support import cloud_lab, ip_of, poll

pytestmark = pytest.mark.root

FOREIGN_COOKIE = 0xF00D
FOREIGN_FLOW = f"cookie={FOREIGN_COOKIE:#x},table=0,priority=7,dl_type=0x88b5,actions=drop"


def ofctl(ctx: Any, *args: str) -> str:
    return programs.run(["ovs-ofctl", *args], env=ctx.ovs_env).stdout


def vsctl(ctx: Any, *args: str) -> str:
    return programs.run(["ovs-vsctl", *args], env=ctx.ovs_env).stdout


def traffic_ok(c: Any) -> list[str]:
    """What fails among TCP and UDP across the tunnel both ways and TCP to the outside (SNAT)."""
    vm1, vm2 = c.vms
    out_ns, out_ip = c.lab.outside.netns, c.lab.outside.address.split("/")[0]
    checks = [probes.transfer(vm1.netns, vm2.netns, ip_of(vm2), port=5001, size=65536, timeout=5),
              probes.transfer(vm2.netns, vm1.netns, ip_of(vm1), port=5002, udp=True, timeout=5),
              probes.transfer(vm1.netns, out_ns, out_ip, port=5003, size=65536, timeout=5)]  # fmt: skip
    return [f"{ch.name}: {ch.detail}" for ch in checks if not ch.ok]


def kinds(agent: Any) -> set[tuple[str, str]]:
    last = agent.auditor.last or {}
    return {(d["kind"], d["object"]) for d in last.get("drift", [])}


def test_audit_detects_and_repairs_each_drift_class_and_leaves_foreign_objects(lab_root):
    settings = {"audit_interval": 2.0, "audit_repair": False, "resync_interval": 3600.0}
    foreign_ns = f"nt-audx-{uuid.uuid4().hex[:6]}"
    with cloud_lab(lab_root, agent_settings=settings) as c, Netlink() as nl:
        api, lab = c.api, c.lab
        ext = demo.public_network(api, lab, last_address=99)
        net = c.network("audit-net", "10.0.3.0/24", **{"provider:network_type": "vxlan"})
        vni = api.request("GET", f"networks/{net['id']}")["network"]["provider:segmentation_id"]
        router = api.request("POST", "routers", {"router": {"name": "ra", "external_gateway_info": {"network_id": ext["id"]}}})["router"]
        subnet = api.request("GET", f"subnets?network_id={net['id']}")["subnets"][0]
        api.request("PUT", f"routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]})
        sg = api.request("POST", "security-groups", {"security_group": {"name": "open"}})["security_group"]
        for proto in ("tcp", "udp"):
            api.request("POST", "security-group-rules", {"security_group_rule": {
                "security_group_id": sg["id"], "direction": "ingress", "ethertype": "IPv4", "protocol": proto}})  # fmt: skip
        c.vms = [c.vm("avm1", net["id"], "compute1", security_groups=("default", sg["id"])),  # type: ignore[attr-defined]
                 c.vm("avm2", net["id"], "compute2", security_groups=("default", sg["id"]))]  # fmt: skip
        assert poll(lambda: traffic_ok(c), lambda bad: not bad, timeout=30) == []
        agents = c.plane.agents
        compute, network = lab.host("compute1").context, lab.host("network").context
        for agent in agents.values():  # converged: clean, and from now on no pass but a repair's
            agent.queue.add = lambda key: None  # type: ignore[method-assign]
        time.sleep(2.5)
        clean = api.request("GET", "audit")["audit"]
        assert clean["drift_count"] == 0, clean

        # foreign objects, which nothing may touch
        vsctl(compute, "add-br", "br-audx", "--", "set", "bridge", "br-audx", "datapath_type=netdev")
        vsctl(compute, "add-port", "br-int", "audx-p0", "--", "set", "interface", "audx-p0", "type=patch",
              "options:peer=audx-none")  # fmt: skip
        ofctl(compute, "add-flow", "br-int", FOREIGN_FLOW)
        qrouter = network.namespace(f"qrouter-{router['id']}")
        programs.run(["nft", "add", "table", "inet", "audx-foreign"], netns=qrouter)
        nl.add_netns(foreign_ns)
        try:
            # drift, one of each class
            vm1_qvo = c.vms[0].devices["qvo"]
            tun = tunnel_port("vxlan", lab.host("compute2").tunnel_ip.split("/")[0])
            rif = next(p for p in api.request("GET", f"ports?device_id={router['id']}")["ports"]
                       if p["device_owner"] == "network:router_interface")  # fmt: skip
            qr = device(QR, rif["id"])
            pidfile = agents["network"].dhcp.state_dir / net["id"] / "pid"
            dnsmasq_pid = daemons.read_pid(pidfile)
            assert dnsmasq_pid is not None
            started = time.monotonic()
            ofctl(compute, "--strict", "del-flows", "br-tun", f"cookie={COOKIE:#x}/-1,table=4,priority=1,tun_id={vni}")
            vsctl(compute, "set", "port", vm1_qvo, "tag=99")
            vsctl(compute, "del-port", "br-tun", tun)
            os.kill(dnsmasq_pid, signal.SIGKILL)
            programs.run(["nft", "flush", "table", "ip", "neutrino-nat"], netns=qrouter)
            nl.del_link(qr, netns=qrouter)
            injected = time.monotonic() - started
            assert traffic_ok(c), "traffic still flows with every drift injected"

            # the periodic audits find each class, with what differs
            want_c1 = {("port_tag", vm1_qvo), ("tunnel_port", f"br-tun/{tun}"),
                       ("flow", f"br-tun table=4,priority=1,tun_id={vni}")}  # fmt: skip
            want_net = {("dnsmasq", f"dnsmasq for network {net['id']}"),
                        ("nft_table", f"{qrouter} ip neutrino-nat chain postrouting"),
                        ("veth", f"tap{rif['id'][:11]}/{qr}")}  # fmt: skip
            t0 = time.monotonic()
            poll(lambda: (kinds(agents["compute1"]), kinds(agents["network"])),
                 lambda got: want_c1 <= got[0] and want_net <= got[1], timeout=30, every=0.1)  # fmt: skip
            detect = time.monotonic() - t0 + injected
            assert want_c1 <= kinds(agents["compute1"]), agents["compute1"].auditor.last
            assert want_net <= kinds(agents["network"]), agents["network"].auditor.last
            doc = api.request("GET", "audit?host=compute1")["audit"]
            by_object = {d["object"]: d for d in doc["hosts"]["compute1"]["drift"]}
            assert by_object[vm1_qvo]["actual"] == "tag 99" and by_object[vm1_qvo]["expected"].startswith("tag ")
            assert by_object[f"br-tun/{tun}"]["actual"] == "missing"
            found_before = {h: len(r.get("drift", [])) for h, r in api.request("GET", "audit")["audit"]["hosts"].items()}

            # audit --repair, through the CLI, host by host
            from neutrino.cli.main import cli

            clouds = {"OS_CLIENT_CONFIG_FILE": str(nodes.clouds_yaml(lab)), "OS_CLOUD": "neutrino"}

            t1 = time.monotonic()
            took: dict[str, str] = {}
            for host in ("compute1", "network"):
                result = CliRunner().invoke(cli, ["audit", "--host", host, "--repair"], env=clouds)
                assert result.exit_code == 0, result.output
                assert "NOT repaired" not in result.output and "repaired" in result.output, result.output
                print(result.output)
                took[host] = result.output.split("repair ", 1)[1].split(" s)", 1)[0]
            repair = time.monotonic() - t1
            assert api.request("GET", "audit")["audit"]["drift_count"] == 0

            # the periodic audit repairing by itself (audit_repair on): a flow deleted again
            agents["compute1"].settings.audit_repair = True
            flow = f"cookie={COOKIE:#x}/-1,table=4,priority=1,tun_id={vni}"
            t2 = time.monotonic()
            ofctl(compute, "--strict", "del-flows", "br-tun", flow)
            dump = f"cookie={COOKIE:#x}/-1,table=4,tun_id={vni}"
            back = poll(lambda: ofctl(compute, "dump-flows", "br-tun", dump), lambda out: "tun_id" in out, timeout=15, every=0.1)
            periodic = time.monotonic() - t2
            assert "tun_id" in back
            for agent in agents.values():  # the agents' own passes again
                del agent.queue.add
            assert poll(lambda: traffic_ok(c), lambda bad: not bad, timeout=20) == []

            # the foreign objects are untouched
            assert "br-audx" in vsctl(compute, "list-br").split()
            assert vsctl(compute, "get", "interface", "audx-p0", "options:peer").strip().strip('"') == "audx-none"
            assert f"cookie={FOREIGN_COOKIE:#x}" in ofctl(compute, "dump-flows", "br-int", f"cookie={FOREIGN_COOKIE:#x}/-1")
            assert "audx-foreign" in programs.run(["nft", "list", "tables"], netns=qrouter).stdout
            assert nl.netns_exists(foreign_ns)
            print(f"\naudit lab: drift found per host {found_before}; time to detect (periodic audit every "
                  f"{settings['audit_interval']:g} s, 6 classes on 2 hosts): {detect:.1f} s; "
                  f"time to repair (audit --repair on both hosts, CLI to API to agent and back): {repair:.1f} s, "
                  f"of which the agents' repair passes took {took} s; a flow deleted again with audit_repair on was back "
                  f"after {periodic:.1f} s (periodic audit and repair)")
        finally:
            nl.del_netns(foreign_ns)
            vsctl(compute, "--if-exists", "del-br", "br-audx")
            vsctl(compute, "--if-exists", "del-port", "br-int", "audx-p0")
