"""Traffic checks between namespaces: ping, and TCP/UDP with payload integrity.

Each check returns a ``Check`` (name, ok, detail) so that commands can print a table of them
and tests can assert on them. Only namespaces the caller created are used.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass

from neutrino.dataplane import exec as programs


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    peer: str | None = None
    """For transfers: the source address the receiving side saw (shows SNAT)."""


def ping(src_ns: str, dst_ip: str, *, count: int = 3, need: int = 1, name: str | None = None) -> Check:
    """``need`` of ``count`` replies: the first packet may be lost while OVS resolves ARP (docs/dataplane.md, "Tunnel endpoints")."""
    done = programs.run(["ping", "-c", str(count), "-i", "0.2", "-W", "2", dst_ip], netns=src_ns, check=False, timeout=30)
    match = re.search(r"(\d+) received", done.stdout)
    got = int(match.group(1)) if match else 0
    return Check(name or f"ping {src_ns} → {dst_ip}", got >= need, f"{got}/{count} replies")


def ping_size(src_ns: str, dst_ip: str, *, size: int, count: int = 3) -> Check:
    """A don't-fragment ping of ``size`` bytes of payload: proves the path MTU (docs/dataplane.md, "MTU on tunnels")."""
    done = programs.run(["ping", "-M", "do", "-s", str(size), "-c", str(count), "-i", "0.2", "-W", "2", dst_ip],
                  netns=src_ns, check=False, timeout=30)  # fmt: skip
    match = re.search(r"(\d+) received", done.stdout)
    got = int(match.group(1)) if match else 0
    return Check(f"ping -M do -s {size} {src_ns} → {dst_ip}", got >= 1, f"{got}/{count} replies of {size} bytes")


def transfer(
    src_ns: str,
    dst_ns: str,
    dst_ip: str,
    *,
    port: int = 5001,
    size: int | None = None,
    udp: bool = False,
    name: str | None = None,
    timeout: float = 10.0,
    duration: float = 0.0,
    serve_port: int | None = None,
) -> Check:
    """Send ``size`` random bytes from ``src_ns`` to a probe in ``dst_ns``; the digest must match.
    ``dst_ip`` may be IPv6 (the probe then listens on ``::``). ``serve_port``: where the probe listens when a DNAT on the way changes the port (default ``port``)."""
    proto = "udp" if udp else "tcp"
    size = size if size is not None else (1200 if udp else 1 << 20)  # one datagram, or 1 MiB of stream
    label = name or f"{proto} {src_ns} → {dst_ip}:{port}"
    probe = [sys.executable, "-m", "neutrino.tools.tcpcheck"]
    family = ["--ipv6"] if ":" in dst_ip else []
    serve = programs.netns_argv([*probe, "serve", "--port", str(serve_port or port), "--timeout", str(timeout), *(["--udp"] if udp else []),
                                 *family], dst_ns)  # fmt: skip
    server = subprocess.Popen(serve, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        if server.stdout.readline().strip() != "ready":
            server.wait(timeout=5)
            return Check(label, False, f"probe did not start: {server.stderr.read().strip() if server.stderr else ''}")
        args = [*probe, "send", dst_ip, "--port", str(port), "--bytes", str(size), "--timeout", str(timeout)]
        if duration:
            args += ["--duration", str(duration)]
        done = programs.run([*args, *(["--udp"] if udp else [])], netns=src_ns, check=False, timeout=timeout + duration + 5)
        ok = done.returncode == 0
        detail = (done.stdout.strip() if duration else f"{size} bytes, digest verified") if ok else (done.stderr.strip() or done.stdout.strip())
        peer = None
        if server.poll() is None:
            try:
                server.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        if server.poll() is not None:
            for line in (server.stdout.read() or "").splitlines():
                if line.startswith("peer "):
                    peer = line.split()[1]
        return Check(label, ok, detail, peer)
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(timeout=5)


class Capture:
    """tcpdump on an interface (the lab's switches in the root namespace, or inside a lab
    namespace) while a block runs; ``lines`` holds what it printed (with link-level headers)."""

    def __init__(self, interface: str, bpf: str, *, netns: str | None = None, count: int = 20, verbose: bool = False) -> None:
        """``verbose``: tcpdump -v (IP header fields such as the TOS byte); a packet may then
        take two lines."""
        flags = ["-v"] if verbose else []
        self.argv = programs.netns_argv(["tcpdump", "-l", "-nn", "-e", *flags, "-c", str(count), "-i", interface, bpf], netns)
        self.lines: list[str] = []
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> Capture:
        self._proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self._proc.stderr is not None
        self._proc.stderr.readline()  # "listening on ...": capturing from here on
        return self

    def __exit__(self, *exc: object) -> None:
        import time

        assert self._proc is not None
        time.sleep(0.3)
        self._proc.terminate()
        out, _ = self._proc.communicate(timeout=5)
        self.lines = out.splitlines()
