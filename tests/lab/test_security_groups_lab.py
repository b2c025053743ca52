"""Security groups in the lab: the hybrid nftables firewall on each port's qbr, with real packets.

Neutron's semantics (docs/neutron-behaviour.md, "Security groups"): the project's ``default`` group lets in only its own members
(and lets everything out); a new group gets the two egress-any rules and no ingress rule; a port
may send only from its fixed IPs and MAC, plus its allowed address pairs. Rule and port changes
reach the agents asynchronously (the server notifies them), so each change is polled for.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from neutrino.dataplane import exec as programs
from neutrino.dataplane.naming import QVB
from neutrino.lab import probes
from tests.lab.cloud_support import cloud_lab, ip_of

pytestmark = pytest.mark.root

CONVERGE = 10.0  # seconds for a firewall change to reach the dataplane
QUICK = 2.0  # a probe that is expected to fail gives up after this long

CLIENT = """\
import hashlib, os, socket, sys
dst, port, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((dst, port), timeout=float(sys.argv[4]), source_address=(src, 0))
payload = os.urandom(1 << 16)
s.sendall(payload)
s.shutdown(socket.SHUT_WR)
answer = b"".join(iter(lambda: s.recv(128), b"")).decode()
sys.exit(answer != hashlib.sha256(payload).hexdigest())
"""


@pytest.fixture(scope="module")
def cl(lab_root):
    with cloud_lab(lab_root) as c:
        yield c


def _group(cl, name, rules=()):  # type: ignore[no-untyped-def]
    sg = cl.api.request("POST", "security-groups", {"security_group": {"name": name}})["security_group"]
    for rule in rules:
        _rule(cl, sg["id"], **rule)
    return sg


def _rule(cl, sg_id, **attrs):  # type: ignore[no-untyped-def]
    body = {"security_group_rule": {"security_group_id": sg_id, "ethertype": "IPv4", **attrs}}
    return cl.api.request("POST", "security-group-rules", body)["security_group_rule"]


def _tcp(src, dst, port=5001, timeout=QUICK):  # type: ignore[no-untyped-def]
    return probes.transfer(src.netns, dst.netns, ip_of(dst), port=port, size=64 << 10, timeout=timeout)


def _tcp_from(src, source_ip, dst, port=5009, timeout=QUICK, dst_ip=None):  # type: ignore[no-untyped-def]
    """TCP from ``source_ip`` (an address the port may or may not own) to ``dst`` (at ``dst_ip``,
    IPv4 or IPv6; default its IPv4 address), digest checked."""
    dst_ip = dst_ip or ip_of(dst)
    serve = [sys.executable, "-m", "neutrino.tools.tcpcheck", "serve", "--port", str(port), "--timeout", str(timeout + 1),
             *(["--ipv6"] if ":" in dst_ip else [])]  # fmt: skip
    server = subprocess.Popen(programs.netns_argv(serve, dst.netns), stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        argv = [sys.executable, "-c", CLIENT, dst_ip, str(port), source_ip, str(timeout)]
        done = programs.run(argv, netns=src.netns, check=False, timeout=timeout + 5)
        return probes.Check(f"tcp {source_ip} → {dst_ip}:{port}", done.returncode == 0, done.stderr.strip()[-200:])
    finally:
        server.kill()
        server.wait(timeout=5)


def _ping_from(src, source_ip, dst):  # type: ignore[no-untyped-def]
    done = programs.run(["ping", "-I", source_ip, "-c", "2", "-i", "0.2", "-W", "1", ip_of(dst)], netns=src.netns, check=False)
    return probes.Check(f"ping -I {source_ip} → {ip_of(dst)}", done.returncode == 0, done.stdout.strip()[-120:])


def _past_qbr(cl, vm, bpf, probe):  # type: ignore[no-untyped-def]
    """Run ``probe`` while capturing on the port's qvb: what the firewall let out of the qbr."""
    with probes.Capture(vm.devices[QVB], bpf, netns=cl.lab.host(vm.host).netns, count=5) as cap:
        check = probe()
    return check, [line for line in cap.lines if line.strip()]


def _until(probe: Callable[[], probes.Check], ok: bool = True, timeout: float = CONVERGE) -> probes.Check:
    """Retry ``probe`` until its outcome is ``ok``; fail with the last result after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        check = probe()
        if check.ok == ok:
            return check
        assert time.monotonic() < deadline, f"still {'failing' if ok else 'passing'} after {timeout}s: {check}"
        time.sleep(0.2)


def test_default_group_and_a_group_without_ingress(cl):
    net = cl.network("sg-default", "10.60.0.0/24")
    a = cl.vm("da", net["id"], "compute1")
    b = cl.vm("db", net["id"], "compute2")
    default = cl.api.find("security-groups", "default")
    assert cl.api.request("GET", f"ports/{a.port_id}")["port"]["security_groups"] == [default["id"]]
    _until(lambda: _tcp(a, b))
    assert _tcp(b, a).ok
    assert probes.transfer(a.netns, b.netns, ip_of(b), udp=True, timeout=QUICK).ok
    # a new group: Neutron gives it the two egress-any rules and nothing else
    lonely = _group(cl, "lonely")
    assert sorted((r["direction"], r["ethertype"]) for r in lonely["security_group_rules"]) == [
        ("egress", "IPv4"), ("egress", "IPv6")]  # fmt: skip
    c = cl.vm("dc", net["id"], "compute1", security_groups=(lonely["id"],))
    # members of default may not reach it (no ingress rule), nor it them (not a member of default)
    _until(lambda: _tcp(a, b))  # the member change has reached both computes
    assert not _tcp(a, c).ok
    assert not _tcp(b, c).ok
    assert not _tcp(c, a).ok and not _tcp(c, b).ok
    assert not probes.ping(c.netns, ip_of(a), count=2).ok
    # its egress is open: it reaches a VM that lets anything in over TCP
    open_ = _group(cl, "open-tcp", [{"direction": "ingress", "protocol": "tcp"}])
    d = cl.vm("dd", net["id"], "compute2", security_groups=(open_["id"],))
    _until(lambda: _tcp(c, d))
    assert not _tcp(a, c).ok  # replies are allowed, new connections still are not
    # with its egress rules deleted the group allows nothing in and nothing out
    for rule in lonely["security_group_rules"]:
        cl.api.request("DELETE", f"security-group-rules/{rule['id']}")
    _until(lambda: _tcp(c, d), ok=False)
    assert _tcp(a, b).ok


def test_rule_added_then_removed(cl):
    net = cl.network("sg-rule", "10.61.0.0/24")
    web = _group(cl, "web")
    srv = cl.vm("rs", net["id"], "compute2", security_groups=(web["id"],))
    cli = cl.vm("rc", net["id"], "compute1")
    assert not _tcp(cli, srv, port=8080).ok
    rule = _rule(cl, web["id"], direction="ingress", protocol="tcp", port_range_min=8080, port_range_max=8080,
                 remote_ip_prefix="0.0.0.0/0")  # fmt: skip
    _until(lambda: _tcp(cli, srv, port=8080))
    assert _tcp(cli, srv, port=8080, timeout=10).ok
    assert not _tcp(cli, srv, port=8081).ok
    assert not probes.transfer(cli.netns, srv.netns, ip_of(srv), port=8080, udp=True, timeout=QUICK).ok
    cl.api.request("DELETE", f"security-group-rules/{rule['id']}")
    _until(lambda: _tcp(cli, srv, port=8080), ok=False)


def test_icmp_rule_from_one_address(cl):
    net = cl.network("sg-icmp", "10.62.0.0/24")
    p1 = cl.vm("ip1", net["id"], "compute1")
    p2 = cl.vm("ip2", net["id"], "compute1")
    pingable = _group(cl, "ping-from-p1")
    rule = _rule(cl, pingable["id"], direction="ingress", protocol="icmp", remote_ip_prefix=f"{ip_of(p1)}/32")
    assert (rule["protocol"], rule["port_range_min"]) == ("icmp", None)
    t = cl.vm("it", net["id"], "compute2", security_groups=(pingable["id"],))
    _until(lambda: probes.ping(p1.netns, ip_of(t), count=2))
    assert not probes.ping(p2.netns, ip_of(t), count=3).ok
    assert not _tcp(p1, t).ok  # ICMP only


def test_anti_spoofing_address_pairs_and_mac(cl):
    net = cl.network("sg-spoof", "10.63.0.0/24")
    a = cl.vm("sa", net["id"], "compute1")
    b = cl.vm("sb", net["id"], "compute2")
    _until(lambda: _tcp(a, b))
    extra = cl.free_address(net["id"], "10.63.0.0/24")  # neither a's nor b's (random) address
    programs.run(["ip", "addr", "add", f"{extra}/24", "dev", "eth0"], netns=a.netns)
    assert _ping_from(a, ip_of(a), b).ok
    check, seen = _past_qbr(cl, a, f"ip src {extra}", lambda: _ping_from(a, extra, b))
    assert not check.ok and seen == [], (check, seen)  # dropped in a's qbr, not somewhere later
    assert not _tcp_from(a, extra, b).ok
    port = cl.api.request("PUT", f"ports/{a.port_id}", {"port": {"allowed_address_pairs": [{"ip_address": extra}]}})
    assert port["port"]["allowed_address_pairs"] == [{"ip_address": extra, "mac_address": a.mac}]
    # a's firewall lets it send from the pair; b's (default group) lets the pair in as a member's address
    _until(lambda: _tcp_from(a, extra, b))
    check, seen = _past_qbr(cl, a, f"icmp and ip src {extra}", lambda: _ping_from(a, extra, b))
    assert check.ok and seen, (check, seen)  # the capture sees what passes
    # another MAC on eth0: every frame is dropped at the qbr
    other_mac = "fa:16:3e:00:be:ef"
    programs.run(["ip", "link", "set", "eth0", "address", other_mac], netns=a.netns)
    check, seen = _past_qbr(cl, a, f"ether src {other_mac}", lambda: probes.ping(a.netns, ip_of(b), count=2))
    assert not check.ok and seen == [], (check, seen)
    assert not _tcp(a, b).ok
    programs.run(["ip", "link", "set", "eth0", "address", a.mac], netns=a.netns)
    _until(lambda: _tcp(a, b))
    assert probes.ping(a.netns, ip_of(b), count=2).ok
