"""The agent's side of the metadata service: the unix socket the proxies forward to.

Each request arrives from a haproxy with the instance's address (X-Forwarded-For, set by
haproxy, the client's own removed) and where it came in (X-Neutron-Router-ID or
X-Neutron-Network-ID). The router's networks come from this agent's last desired state; the
port is asked of the server (``get_metadata_port``: exactly one instance port with that address
on those networks, else 404). Then either the answer is rendered here (``content.render``) or,
with ``nova_metadata_url`` set, the request is forwarded there signed (``upstream``), as
Neutron's metadata agent does. Threads, one per request: lookups are short bus calls.
"""

from __future__ import annotations

import logging
import os
import socketserver
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from neutrino.agent.metadata import content, upstream
from neutrino.agent.metadata.proxies import NETWORK_HEADER, ROUTER_HEADER, MetadataSettings

LOG = logging.getLogger(__name__)
Lookup = Callable[[list[str], str], "dict[str, Any] | None"]


class MetadataServer:
    """``lookup(network_ids, ip)``: the port (the bus call); ``router_networks()``: router id ->
    networks, from the agent's last desired state."""

    def __init__(self, socket_path: Path, settings: MetadataSettings, lookup: Lookup,
                 router_networks: Callable[[], dict[str, list[str]]]) -> None:  # fmt: skip
        self.socket_path = Path(socket_path)
        self.settings = settings
        self.lookup = lookup
        self.router_networks = router_networks
        self._server: socketserver.ThreadingUnixStreamServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                status, ctype, body = owner.answer(self.path, dict(self.headers.items()),
                                                   self.headers.get_all("X-Forwarded-For") or [])  # fmt: skip
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
                LOG.debug("metadata: " + format, *args)

        self._server = socketserver.ThreadingUnixStreamServer(str(self.socket_path), Handler)
        self._server.daemon_threads = True
        os.chmod(self.socket_path, 0o600)
        self._thread = threading.Thread(target=self._server.serve_forever, name="metadata-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.socket_path.unlink(missing_ok=True)

    def answer(self, path: str, headers: dict[str, str], forwarded: list[str]) -> tuple[int, str, bytes]:
        """(status, content type, body) for one request (header names in any case: haproxy
        sends them lower-case)."""
        remote = forwarded[-1].split(",")[-1].strip() if forwarded else ""  # haproxy's, appended last
        lower = {k.lower(): v for k, v in headers.items()}
        router_id, network_id = lower.get(ROUTER_HEADER.lower()), lower.get(NETWORK_HEADER.lower())
        if router_id and network_id:
            return 400, "text/plain", b"400 Bad Request\n\nBoth a network and a router.\n"
        networks = [network_id] if network_id else self.router_networks().get(router_id or "", [])
        try:
            port = self.lookup(networks, remote) if remote and networks else None
        except Exception as exc:  # noqa: BLE001 - the server is away: the instance retries
            LOG.warning("metadata: looking up %s: %s", remote, exc)
            return 503, "text/plain", b"503 Service Unavailable\n"
        if port is None:
            LOG.info("metadata: no instance port with address %r on %s", remote, networks)
            return 404, "text/plain", content.NOT_FOUND.body
        if self.settings.nova_metadata_url:
            return self._forward(path, port, remote)
        response = content.render(path.split("?", 1)[0], port)
        return response.status, response.content_type, response.body

    def _forward(self, path: str, port: dict[str, Any], remote: str) -> tuple[int, str, bytes]:
        assert self.settings.nova_metadata_url
        heads = upstream.headers(port["device_id"], port["project_id"], remote, self.settings.shared_secret)
        request = urllib.request.Request(upstream.url(self.settings.nova_metadata_url, path), headers=heads)
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                return reply.status, reply.headers.get("Content-Type", "text/plain"), reply.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Content-Type", "text/plain"), exc.read()
        except OSError as exc:
            LOG.warning("metadata: upstream %s: %s", self.settings.nova_metadata_url, exc)
            return 503, "text/plain", b"503 Service Unavailable\n\nThe remote metadata server is unavailable.\n"
