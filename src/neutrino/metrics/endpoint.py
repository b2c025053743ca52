"""The agent's ``/metrics`` listener: a small threaded HTTP server that wants an admin token.

An agent has no identity database, so it checks a presented ``X-Auth-Token`` the way
keystonemiddleware does: it asks the identity service (``GET /v3/auth/tokens`` with the token
as ``X-Subject-Token``, authenticated by the agent's own token) and accepts it when the answer
carries the admin role. Answers are cached for ``CACHE_SECONDS`` so a scraper every few seconds
costs one validation a minute; a revoked token stops working within that time.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = logging.getLogger(__name__)
CACHE_SECONDS = 60.0
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

TokenCheck = Callable[[str], bool]
"""True when the token may read metrics (it belongs to an admin)."""


class KeystoneAdminCheck:
    """Validate tokens against the identity service at ``auth_url`` (``.../identity/v3``)."""

    def __init__(self, auth_url: str, own_token: Callable[[], str], clock: Callable[[], float] = time.monotonic) -> None:
        self.url = auth_url.rstrip("/") + "/auth/tokens"
        self.own_token = own_token
        self.clock = clock
        self._cache: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def __call__(self, token: str) -> bool:
        now = self.clock()
        with self._lock:
            hit = self._cache.get(token)
            if hit is not None and now - hit[0] < CACHE_SECONDS:
                return hit[1]
        verdict = self._ask(token)
        if verdict is not None:
            with self._lock:
                if len(self._cache) > 1000:
                    self._cache.clear()
                self._cache[token] = (now, verdict)
        return bool(verdict)

    def _ask(self, token: str) -> bool | None:
        """True/False from the identity service; None when it could not answer (not cached)."""
        try:
            req = urllib.request.Request(self.url, headers={"X-Auth-Token": self.own_token(), "X-Subject-Token": token})
            with urllib.request.urlopen(req, timeout=5) as resp:
                body = json.load(resp)
        except urllib.error.HTTPError as exc:
            return False if exc.code in (401, 403, 404) else None
        except (OSError, ValueError) as exc:
            LOG.warning("metrics: cannot validate a token with %s: %s", self.url, exc)
            return None
        roles = body.get("token", {}).get("roles", [])
        return any(r.get("name") == "admin" for r in roles)


class MetricsEndpoint:
    """Serve ``render()`` at ``GET /metrics`` on ``(address, port)`` to holders of an admin token."""

    def __init__(self, address: str, port: int, render: Callable[[], bytes], allowed: TokenCheck) -> None:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                endpoint._answer(self)

            def log_message(self, *_args: object) -> None:  # scrapes are not worth a log line
                return

        self.render = render
        self.allowed = allowed
        self.server = ThreadingHTTPServer((address, port), Handler)
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def _answer(self, req: BaseHTTPRequestHandler) -> None:
        if req.path.split("?")[0] != "/metrics":
            self._send(req, 404, b"not found\n")
            return
        token = req.headers.get("X-Auth-Token")
        if not token:
            self._send(req, 401, b"an admin token is needed (X-Auth-Token)\n")
            return
        if not self.allowed(token):
            self._send(req, 403, b"metrics need an admin token\n")
            return
        self._send(req, 200, self.render(), CONTENT_TYPE)

    @staticmethod
    def _send(req: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str = "text/plain; charset=utf-8") -> None:
        req.send_response(status)
        req.send_header("Content-Type", ctype)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name="metrics", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
