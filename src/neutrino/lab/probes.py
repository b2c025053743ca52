"""Traffic checks between namespaces: ping, and TCP/UDP with payload integrity.

Each check returns a ``Check`` (name, ok, detail) so that commands can print a table of them
and tests can assert on them. Only namespaces the caller created are used.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass

from neutrino.dataplane import exec as ex


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def ping(src_ns: str, dst_ip: str, *, count: int = 3, need: int = 1, name: str | None = None) -> Check:
    """``need`` of ``count`` replies: the first packet may be lost while OVS resolves ARP (G6)."""
    done = ex.run(["ping", "-c", str(count), "-i", "0.2", "-W", "2", dst_ip], netns=src_ns, check=False, timeout=30)
    m = re.search(r"(\d+) received", done.stdout)
    got = int(m.group(1)) if m else 0
    return Check(name or f"ping {src_ns} → {dst_ip}", got >= need, f"{got}/{count} replies")


def transfer(
    src_ns: str,
    dst_ns: str,
    dst_ip: str,
    *,
    port: int = 5001,
    size: int = 1 << 20,
    udp: bool = False,
    name: str | None = None,
    timeout: float = 10.0,
) -> Check:
    """Send ``size`` random bytes from ``src_ns`` to a probe in ``dst_ns``; the digest must match."""
    proto = "udp" if udp else "tcp"
    label = name or f"{proto} {src_ns} → {dst_ip}:{port}"
    probe = [sys.executable, "-m", "neutrino.tools.tcpcheck"]
    serve = ex.netns_argv([*probe, "serve", "--port", str(port), "--timeout", str(timeout), *(["--udp"] if udp else [])], dst_ns)
    server = subprocess.Popen(serve, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        if server.stdout.readline().strip() != "ready":
            server.wait(timeout=5)
            return Check(label, False, f"probe did not start: {server.stderr.read().strip() if server.stderr else ''}")
        args = [*probe, "send", dst_ip, "--port", str(port), "--bytes", str(size), "--timeout", str(timeout)]
        done = ex.run([*args, *(["--udp"] if udp else [])], netns=src_ns, check=False, timeout=timeout + 5)
        ok = done.returncode == 0
        detail = f"{size} bytes, digest verified" if ok else (done.stderr.strip() or done.stdout.strip())
        return Check(label, ok, detail)
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(timeout=5)
