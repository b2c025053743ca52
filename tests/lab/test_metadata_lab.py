"""The metadata service from instances, with real HTTP (docs/metadata.md): through a router's
namespace from two instances on two compute hosts, through the DHCP namespace of a network
without a router, and nothing for a request that claims another address (a spoofed source,
or a forged X-Forwarded-For header)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from neutrino.dataplane import daemons, exec as programs
from neutrino.dataplane.errors import CommandTimeout
from tests.lab.cloud_support import cloud_lab, ip_of, poll

pytestmark = pytest.mark.root
URL = "http://169.254.169.254/openstack/latest/meta_data.json"


@pytest.fixture(scope="module")
def cl(lab_root):
    with cloud_lab(lab_root) as c:
        yield c


@pytest.fixture(scope="module")
def vms(cl):
    """mda (compute1) and mdb (compute2) on a network behind a router; mdc on an isolated network."""
    routed = cl.network("md-routed", "10.0.7.0/24")
    isolated = cl.network("md-isolated", "10.0.8.0/24")
    router = cl.api.request("POST", "routers", {"router": {"name": "md-router"}})["router"]
    subnet = cl.api.request("GET", f"subnets?network_id={routed['id']}")["subnets"][0]
    cl.api.request("PUT", f"routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]})
    return {"a": cl.vm("mda", routed["id"], "compute1"), "b": cl.vm("mdb", routed["id"], "compute2"),
            "c": cl.vm("mdc", isolated["id"], "compute1")}  # fmt: skip


def _wget(vm, url: str = URL) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    """busybox wget (without -T: Debian's busybox 1.35 wget crashes with it)."""
    try:
        return programs.run(["busybox", "wget", "-q", "-O-", url], netns=vm.netns, check=False, timeout=10)
    except CommandTimeout:
        return subprocess.CompletedProcess([], 124, "", "timed out")


def _meta(vm) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """The instance's meta_data.json, polled while its proxy comes up."""
    done = poll(lambda: _wget(vm), lambda d: d.returncode == 0, timeout=40, every=0.5)
    assert done.returncode == 0, f"{vm.name}: {done.stdout}{done.stderr}"
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_instances_behind_a_router_get_their_own_metadata(vms) -> None:
    for key in ("a", "b"):
        vm = vms[key]
        meta = _meta(vm)
        print(f"{vm.name} meta_data.json: {json.dumps(meta)}")
        assert meta["uuid"] == vm.vm_uuid and meta["name"] == vm.name and meta["hostname"] == vm.name
    net = json.loads(_wget(vms["a"], "http://169.254.169.254/openstack/latest/network_data.json").stdout)
    print(f"mda network_data.json: {json.dumps(net)}")
    assert net["links"][0]["ethernet_mac_address"] == vms["a"].mac and net["networks"][0]["type"] == "ipv4_dhcp"
    ec2 = _wget(vms["b"], "http://169.254.169.254/latest/meta-data/local-ipv4")
    assert ec2.stdout.strip() == ip_of(vms["b"])


def test_an_isolated_network_gets_metadata_through_its_dhcp_namespace(vms) -> None:
    routes = programs.run(["ip", "-4", "route"], netns=vms["c"].netns).stdout
    assert "169.254.169.254" in routes, routes  # DHCP's classless static route to the DHCP port
    meta = _meta(vms["c"])
    print(f"mdc meta_data.json: {json.dumps(meta)}")
    assert meta["uuid"] == vms["c"].vm_uuid and meta["name"] == "mdc"


RAW = """
import socket, sys
s = socket.socket()
s.settimeout(5)
if sys.argv[1]:
    s.bind((sys.argv[1], 0))
try:
    s.connect(("169.254.169.254", 80))
    s.sendall(b"GET /openstack/latest/meta_data.json HTTP/1.0\\r\\nX-Forwarded-For: " + sys.argv[2].encode() + b"\\r\\n\\r\\n")
    print(s.makefile("rb").read().decode(errors="replace"))
except OSError as exc:
    print("no answer:", exc)
"""


def test_a_request_claiming_another_address_gets_nothing(cl, vms) -> None:
    a, b = vms["a"], vms["b"]
    _meta(a)  # the proxy is up
    # a forged X-Forwarded-For naming mdb: the proxy replaces it, mda gets its own
    forged = programs.run([sys.executable, "-c", RAW, "", ip_of(b)], netns=a.netns, timeout=20).stdout
    assert a.vm_uuid in forged and b.vm_uuid not in forged, forged
    # a second address on mda's eth0, unknown to Neutron, as the source: no metadata at all
    routed = cl.api.request("GET", f"ports/{a.port_id}")["port"]["network_id"]
    other = cl.free_address(routed, "10.0.7.0/24", first=250)  # not mda's own (random) address
    programs.run(["ip", "addr", "add", f"{other}/24", "dev", "eth0"], netns=a.netns)
    try:
        spoofed = programs.run([sys.executable, "-c", RAW, other, other], netns=a.netns, timeout=20).stdout
    finally:
        programs.run(["ip", "addr", "del", f"{other}/24", "dev", "eth0"], netns=a.netns, check=False)
    print(f"forged X-Forwarded-For: {forged.splitlines()[0]}; spoofed source: {spoofed.strip()[:120]}")
    direct = _wget(a, f"http://{a.gateway}:9697/openstack/latest/meta_data.json")  # the proxy's port, not redirected
    assert direct.returncode != 0 and a.vm_uuid not in direct.stdout, direct
    assert '"uuid"' not in spoofed and a.vm_uuid not in spoofed and b.vm_uuid not in spoofed, spoofed


def test_a_killed_proxy_is_restarted_by_its_agent(cl, vms) -> None:
    """The network node's agent restarts a dead haproxy (found by its pidfile) within seconds."""
    _meta(vms["a"])
    conf_dir = cl.lab.state_dir / "network" / "metadata"
    pidfile = next(conf_dir.glob("router-*.pid"))
    old = daemons.read_pid(pidfile)
    assert old is not None and daemons.alive(old, "haproxy")
    os.kill(old, signal.SIGKILL)
    new = poll(lambda: daemons.read_pid(pidfile), lambda p: p not in (None, old) and daemons.alive(p, "haproxy"), timeout=20)
    assert new not in (None, old)
    assert _meta(vms["a"])["uuid"] == vms["a"].vm_uuid
