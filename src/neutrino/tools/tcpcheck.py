"""A tiny TCP/UDP probe that proves payload integrity, not just reachability.

``serve`` listens, prints ``ready`` once bound, receives one message and answers with its
SHA-256 (TCP: the whole stream until the client shuts down its side; UDP: one datagram).
``send`` sends N random bytes and checks that digest (to an IPv4 or an IPv6 address; ``serve
--ipv6`` listens on IPv6). For a TCP stream the server also prints
``gap <seconds>``: the longest silence between two received chunks (a failover's cost). A broken checksum path (docs/dataplane.md, "Checksum offload") makes
TCP and UDP fail while ping still works; this catches it. Run inside a namespace with
``ip netns exec``; no dependencies beyond the standard library.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import sys
import time


def serve(port: int, udp: bool, timeout: float, ipv6: bool = False) -> int:
    kind = socket.SOCK_DGRAM if udp else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET6 if ipv6 else socket.AF_INET, kind) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("::" if ipv6 else "0.0.0.0", port))
        sock.settimeout(timeout)
        if udp:
            print("ready", flush=True)
            data, peer = sock.recvfrom(65535)
            print(f"peer {peer[0]}", flush=True)
            sock.sendto(hashlib.sha256(data).hexdigest().encode(), peer)
            return 0
        sock.listen(1)
        print("ready", flush=True)
        conn, peer = sock.accept()
        print(f"peer {peer[0]}", flush=True)
        with conn:
            conn.settimeout(timeout)
            digest = hashlib.sha256()
            last = gap = 0.0
            while chunk := conn.recv(65536):
                now = time.monotonic()
                gap, last = (max(gap, now - last) if last else 0.0), now
                digest.update(chunk)
            print(f"gap {gap:.3f}", flush=True)
            conn.sendall(digest.hexdigest().encode())
    return 0


def send(host: str, port: int, size: int, udp: bool, timeout: float, duration: float = 0.0) -> int:
    if duration and not udp:
        return stream(host, port, duration, timeout)
    payload = os.urandom(size)
    expected = hashlib.sha256(payload).hexdigest()
    if udp:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout)
            sock.sendto(payload, (host, port))
            answer = sock.recv(128).decode()
    else:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            chunks = []
            while chunk := sock.recv(128):
                chunks.append(chunk)
            answer = b"".join(chunks).decode()
    if answer != expected:
        print(f"digest mismatch: sent {expected}, peer saw {answer or 'nothing'}", file=sys.stderr)
        return 1
    print(f"ok {size} bytes {'udp' if udp else 'tcp'} {host}:{port}")
    return 0


def stream(host: str, port: int, duration: float, timeout: float) -> int:
    """Keep one TCP connection busy for ``duration`` seconds (a chunk every 10 ms), then check
    the digest: proves a flow survived whatever happened meanwhile (an agent restart, say)."""
    digest = hashlib.sha256()
    sent = 0
    with socket.create_connection((host, port), timeout=timeout) as sock:
        end = time.monotonic() + duration
        while time.monotonic() < end:
            chunk = os.urandom(1024)
            sock.sendall(chunk)
            digest.update(chunk)
            sent += len(chunk)
            time.sleep(0.01)
        sock.shutdown(socket.SHUT_WR)
        answer = b"".join(iter(lambda: sock.recv(128), b"")).decode()
    if answer != digest.hexdigest():
        print(f"stream digest mismatch after {sent} bytes", file=sys.stderr)
        return 1
    print(f"ok stream {sent} bytes over {duration:g}s tcp {host}:{port}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tcpcheck")
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, default=5001)
    s.add_argument("--udp", action="store_true")
    s.add_argument("--timeout", type=float, default=10.0)
    s.add_argument("--ipv6", action="store_true", help="listen on IPv6 (::)")
    c = sub.add_parser("send")
    c.add_argument("host")
    c.add_argument("--port", type=int, default=5001)
    c.add_argument("--bytes", type=int, default=1 << 20)
    c.add_argument("--udp", action="store_true")
    c.add_argument("--timeout", type=float, default=10.0)
    c.add_argument("--duration", type=float, default=0.0, help="stream for this long instead (tcp)")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "serve":
            return serve(args.port, args.udp, args.timeout, args.ipv6)
        return send(args.host, args.port, args.bytes, args.udp, args.timeout, args.duration)
    except OSError as exc:
        print(f"{args.cmd}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
