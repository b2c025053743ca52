"""The transport for agents in another process than the server: HTTP to ``/bus/v1``.

Calls are POSTs; subscriptions are long polls in a background thread that hand each
notification to the listener; a poll that fails is retried with capped exponential backoff
(logged once per kind of failure, and once when the server is back), and a gap in the event
log or a reconnect is reported as one synthetic notification, so the agent looks again.
Messages of an unknown version are dropped (``versions``). Authenticated with a Keystone token
from the given credentials, renewed on 401. Standard library only.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from neutrino.bus import versions
from neutrino.bus.broker_errors import backoff
from neutrino.bus.transport import Handler, Listener, TransportError

LOG = logging.getLogger(__name__)


def password_token(auth: dict[str, Any]) -> str:
    """A project-scoped Keystone token for clouds.yaml-style ``auth`` (auth_url, username,
    password, project_name; default domain)."""
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": auth["username"], "domain": {"id": "default"}, "password": auth["password"]}}},
        "scope": {"project": {"name": auth["project_name"], "domain": {"id": "default"}}}}}  # fmt: skip
    req = urllib.request.Request(
        auth["auth_url"].rstrip("/") + "/auth/tokens", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )  # fmt: skip
    with urllib.request.urlopen(req, timeout=10) as resp:
        return str(resp.headers["X-Subject-Token"])


class HttpTransport:
    def __init__(self, url: str, token: Callable[[], str]) -> None:
        self.url = url.rstrip("/")
        self._token_source = token
        self._token: str | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _request(self, method: str, path: str, body: Any = None, timeout: float = 30.0) -> Any:
        for attempt in (1, 2):
            if self._token is None:
                try:
                    self._token = self._token_source()
                except (OSError, ValueError) as exc:  # server down, credentials refused or unreadable
                    raise TransportError(f"{method} {path}: no token: {exc}") from exc
            req = urllib.request.Request(
                self.url + path, method=method, data=None if body is None else json.dumps(body).encode(),
                headers={"X-Auth-Token": self._token, "Content-Type": "application/json"},
            )  # fmt: skip
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    return json.loads(resp.read() or b"{}")
            except urllib.error.HTTPError as exc:
                if exc.code == 401 and attempt == 1:
                    self._token = None
                    continue
                raise TransportError(f"{method} {path}: HTTP {exc.code}") from exc
            except OSError as exc:
                raise TransportError(f"{method} {path}: {exc}") from exc
        raise TransportError(f"{method} {path}: unauthorized")

    def serve(self, topic: str, handler: Handler) -> None:
        raise TransportError("an HTTP agent transport serves nothing")

    def call(self, topic: str, msg: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        return self._request("POST", "/bus/v1/call", {"topic": topic, "msg": msg}, timeout=timeout + 20)  # type: ignore[no-any-return]

    def publish(self, topic: str, msg: dict[str, Any]) -> None:
        raise TransportError("agents do not publish")

    def subscribe(self, topic: str, listener: Listener) -> Callable[[], None]:
        cancelled = threading.Event()
        path = "/bus/v1/events?"
        after = 0
        try:  # a first, non-waiting poll: the server logs this topic from now on
            after = self._request("GET", path + urllib.parse.urlencode({"topic": topic, "after": 0, "timeout": 0}),
                                  timeout=10)["last"]  # fmt: skip
        except TransportError:
            pass  # the poll loop reports and retries

        def deliver(msg: dict[str, Any]) -> None:
            if not cancelled.is_set() and versions.accept(msg, topic):
                listener(msg)

        def poll(after: int) -> None:
            failures = 0
            last_problem = None
            while not (self._stop.is_set() or cancelled.is_set()):
                query = urllib.parse.urlencode({"topic": topic, "after": after, "timeout": 20})
                try:
                    doc = self._request("GET", path + query, timeout=40)
                except TransportError as exc:
                    problem = str(exc).split(": ", 1)[-1]
                    if problem != last_problem:
                        LOG.error("bus: polling %s at %s failed (%s); retrying with backoff", topic, self.url, problem)
                        last_problem = problem
                    self._stop.wait(backoff(failures, cap=15.0))
                    failures += 1
                    continue
                if failures:
                    LOG.warning("bus: polling %s at %s works again", topic, self.url)
                    failures, last_problem = 0, None
                    deliver(versions.look_again())  # what happened while away
                if doc.get("reset") or (after and doc["last"] < after):  # server restarted or we fell behind
                    deliver(versions.look_again())
                for msg in doc["events"]:
                    deliver(msg)
                after = doc["last"]

        t = threading.Thread(target=poll, args=(after,), name=f"bus-poll-{topic}", daemon=True)
        t.start()
        self._threads.append(t)
        return cancelled.set

    def close(self) -> None:
        self._stop.set()
