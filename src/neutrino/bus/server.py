"""The server's side of the bus: answer agents' calls and tell hosts when to look again.

Calls (topic ``q-plugin``): the desired state of a host (the projection), state reports
(heartbeats), device up/down lists and DHCP readiness; each runs in its own transaction.

Notifications are targeted. The ``Notifier`` listens to the writers' engine
(``domain/notify/capture.py``): from the rows each committed transaction wrote it knows the keys
it touched (a port, a network, a security group's members, a router...), and after a burst of
commits it resolves them to hosts with index queries (``domain/notify/hosts.py``), never by
projecting a host, and publishes ``host_changed`` to those hosts only, with the ids that reached
each (``ports``, ``networks``, ``security_groups``, ``routers``) and a revision number that only
grows. Bursts of commits coalesce into one pass; after each pass the notifier rests four times
as long as the pass took, so that it never takes more than a fifth of the process's time from
the API. Each API worker announces its own commits. Notifications still only say "look again":
an agent that missed one converges at its periodic resync.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from neutrino import errors
from neutrino.bus.events import EventLog
from neutrino.bus.inproc import InProcTransport
from neutrino.bus.trace_requests import TraceRequests
from neutrino.bus.transport import Transport
from neutrino.contract import messages
from neutrino.db.engine import run_in_transaction
from neutrino.domain.models import Agent
from neutrino.domain.notify.capture import Capture, Harvest
from neutrino.domain.notify.hosts import resolve
from neutrino.domain.projection.build import project_host
from neutrino.domain.projection.parts import project_parts
from neutrino.domain.projection.shared_parts import SharedParts
from neutrino.domain.services import agent_requests, agents, dhcp_ports, metadata_ports, port_status
from neutrino.domain.config import DomainConfig

LOG = logging.getLogger(__name__)

AUDIT_TIMEOUT = 60.0
"""How long `GET /v2.0/audit` waits for an agent: a repair runs a whole pass (docs/audit.md)."""
MAX_SHARE = 0.2
"""The share of the time the notifier's passes may take (it rests (1 - MAX_SHARE) / MAX_SHARE
times each pass's duration before the next)."""
MAX_REST = 2.0
"""The longest rest, in seconds: a change reaches agents at most this much later."""


READS = frozenset({messages.GET_DESIRED_STATE, messages.GET_DESIRED_PARTS, messages.GET_METADATA_PORT})
"""Calls that only read: they run on the read sessions, which on SQLite take no lock (a writer's
BEGIN IMMEDIATE made every agent's fetch wait for every write, and for each other, in SQLite's
busy-wait sleeps: the three fetches one new port causes queued behind one another)."""


def _number(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def _ids(value: Any) -> list[str] | None:
    """A list of ids from a message, or None when it carries none (an older agent)."""
    return [str(v) for v in value] if isinstance(value, list) else None


class RpcServer:
    """Decodes agents' calls and dispatches each to a domain operation in its own transaction.

    A call's answer is a dict; a Neutron error becomes ``{"error": {type, message}}`` so the
    agent can log it and retry, never a half-applied change (the transaction rolls back).
    """

    def __init__(
        self, transport: Transport, sessions: sessionmaker[Session], cfg: DomainConfig, metrics: Any = None,
        read_sessions: sessionmaker[Session] | None = None,
    ) -> None:
        """``metrics``: the server's ``metrics.server.ServerMetrics`` (ports turning ACTIVE);
        ``read_sessions``: where the calls that only read run (``READS``)."""
        self.sessions = sessions
        self.read_sessions = read_sessions or sessions
        self.cfg = cfg
        self.metrics = metrics
        self.shared_parts = SharedParts()
        """What the answers of one notification wave share (``projection/shared_parts.py``)."""
        self.methods: dict[str, Callable[[Session, dict[str, Any]], dict[str, Any]]] = {
            messages.GET_DESIRED_STATE: lambda s, msg: {"state": messages.encode_state(project_host(s, msg["host"]))},
            messages.GET_DESIRED_PARTS: lambda s, msg: {"parts": messages.encode_parts(project_parts(
                s, msg["host"], list(msg.get("ports") or []), list(msg.get("security_groups") or []),
                self.shared_parts, _number(msg.get("logged")), _ids(msg.get("local_networks"))))},
            messages.REPORT_STATE: self._report_state,
            messages.UPDATE_DEVICE_LIST: lambda s, msg: agent_requests.update_device_list(
                s, cfg, msg["host"], msg.get("devices_up", []), msg.get("devices_down", []),
                msg.get("entity", port_status.L2)),
            messages.DHCP_READY: lambda s, msg: {"ports": port_status.dhcp_ready(s, msg["port_ids"])},
            messages.CREATE_DHCP_PORT: lambda s, msg: {
                "port_id": dhcp_ports.ensure_dhcp_port(s, cfg, host=msg["host"], network_id=msg["network_id"])},
            messages.BIND_PORTS: lambda s, msg: {
                "bound": agent_requests.bind_router_ports(s, cfg, msg["host"], msg["port_ids"])},
            messages.UPDATE_FIP_STATUSES: lambda s, msg: {
                "updated": agent_requests.update_floatingip_statuses(s, msg["statuses"])},
            messages.GET_METADATA_PORT: lambda s, msg: {
                "port": metadata_ports.metadata_port(s, list(msg["network_ids"]), str(msg["ip_address"]))},
            messages.UPDATE_HA_STATES: lambda s, msg: {
                "updated": agent_requests.update_ha_states(s, cfg, msg["host"], msg["states"])},
            messages.REPORT_PASS: lambda s, msg: self._report_pass(s, cfg, msg),
        }  # fmt: skip
        self.direct: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        """Methods that need no transaction of their own (a trace's answers)."""
        transport.serve(messages.PLUGIN_TOPIC, self.handle)

    def handle(self, msg: dict[str, Any]) -> dict[str, Any]:
        try:
            messages.check(msg)
        except messages.VersionMismatch as exc:
            LOG.warning("dropped an agent call: %s", exc)
            return {"error": {"type": "VersionMismatch", "message": str(exc)}}
        if msg["method"] in self.direct:
            return self.direct[msg["method"]](msg)
        method = self.methods.get(msg["method"])
        if method is None:
            return {"error": {"type": "UnknownMethod", "message": f"no method {msg['method']!r}"}}
        activated: list[str] = []

        def work(session: Session) -> dict[str, Any]:
            session.info.pop(port_status.ACTIVATED, None)  # a retried transaction starts afresh
            out = method(session, msg)
            activated[:] = session.info.pop(port_status.ACTIVATED, [])
            return out

        try:
            reply: dict[str, Any] = run_in_transaction(self.read_sessions if msg["method"] in READS else self.sessions, work)
        except errors.NeutronError as exc:
            return {"error": {"type": type(exc).__name__, "message": str(exc)}}
        if activated and self.metrics is not None:
            self.metrics.ports_activated(activated)
        return reply

    @staticmethod
    def _report_pass(session: Session, cfg: DomainConfig, msg: dict[str, Any]) -> dict[str, Any]:
        """One pass's reports in this one transaction: DHCP readiness first, floating IP
        statuses, then the L2 devices (the order the agent used to send them in)."""
        out: dict[str, Any] = {"dhcp_ready": {}, "fips_updated": [], "devices_up": [], "devices_down": []}
        if msg.get("dhcp_ready"):
            out["dhcp_ready"] = port_status.dhcp_ready(session, msg["dhcp_ready"])
        if msg.get("fip_statuses"):
            out["fips_updated"] = agent_requests.update_floatingip_statuses(session, msg["fip_statuses"])
        if msg.get("devices_up") or msg.get("devices_down"):
            out.update(agent_requests.update_device_list(
                session, cfg, msg["host"], msg.get("devices_up", []), msg.get("devices_down", []), port_status.L2))
        return out

    def _report_state(self, session: Session, msg: dict[str, Any]) -> dict[str, Any]:
        result = agents.report_state(
            session, self.cfg, agent_type=msg["agent_type"], binary=msg["binary"], topic=msg["topic"],
            host=msg["host"], configurations=msg["configurations"], start_flag=bool(msg.get("start_flag")),
            availability_zone=msg.get("availability_zone"),
        )  # fmt: skip
        return {"result": result}


class Notifier:
    """Publishes ``host_changed`` to the hosts that committed transactions touched."""

    def __init__(
        self,
        transport: Transport,
        sessions: sessionmaker[Session],
        read_sessions: sessionmaker[Session] | None = None,
        log: EventLog | None = None,
        metrics: Any = None,
    ) -> None:
        """``sessions``: the writers' sessionmaker, whose engine's writes are captured and whose
        commits wake the notifier; ``read_sessions``: what it resolves hosts with (no write
        lock on SQLite); ``log``: the database's event log, which agents that long-poll read."""
        self.transport = transport
        self.sessions = sessions
        self.read_sessions = read_sessions or sessions
        self.log = log
        self.metrics = metrics
        self._dirty_since: float | None = None  # the first commit not yet covered by a pass
        self.revision = 0
        self._pending = Harvest()
        self._lock = threading.Lock()
        engine = sessions.kw.get("bind")
        self.capture = Capture(engine, self._committed) if engine is not None else None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _committed(self, harvest: Harvest) -> None:
        """A writer's transaction committed (its connection went back to the pool): what it
        touched waits for the next pass, which this wakes."""
        with self._lock:
            self._pending.merge(harvest)
            if self._dirty_since is None:
                self._dirty_since = time.monotonic()
        self._wake.set()

    def _after_commit(self, session: Session) -> None:
        self._wake.set()

    def start(self) -> None:
        """Start (or restart: an app's lifespan may run more than once) the notifying thread."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        if self.capture is not None:
            self.capture.start()
        event.listen(self.sessions, "after_commit", self._after_commit)
        self._thread = threading.Thread(target=self._loop, name="notifier", daemon=True)
        self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)
        self._thread = None
        if self.capture is not None:
            self.capture.stop()
        if event.contains(self.sessions, "after_commit", self._after_commit):
            event.remove(self.sessions, "after_commit", self._after_commit)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=30)  # the timeout makes a lost wake-up heal itself
            self._wake.clear()
            if self._stop.is_set():
                return
            started = time.monotonic()
            try:
                self.pass_once()
            except Exception:  # noqa: BLE001 - keep notifying; the next commit retries
                LOG.exception("notifier pass failed")
            # commits during the rest set the wake-up again: they coalesce into the next pass
            spent = time.monotonic() - started
            self._stop.wait(min(MAX_REST, spent * (1 - MAX_SHARE) / MAX_SHARE))

    def pass_once(self) -> list[str]:
        """Resolve what the commits since the last pass touched; returns the hosts notified."""
        with self._lock:
            harvest, self._pending = self._pending, Harvest()
            dirty_since, self._dirty_since = self._dirty_since, None
        if not harvest:
            return []
        with self.read_sessions() as session:
            harvest.add_hosts(resolve(session, harvest.keys))
            if not harvest.hosts:
                return []
            with_agents = set(session.scalars(select(Agent.host).where(Agent.host.in_(sorted(harvest.hosts)))))
            session.rollback()
        hosts = sorted(h for h in harvest.hosts if h in with_agents)
        if not hosts:
            return []
        self.revision += 1
        now = time.time()
        events = [
            (messages.host_topic(h), messages.message(
                messages.HOST_CHANGED, host=h, revision=self.revision, sent_at=now, **harvest.hosts[h].as_message()))
            for h in hosts
        ]  # fmt: skip
        # logged before published, and published with the log's number: an agent's call for
        # parts names it, and pieces kept since that number answer it (projection/shared_parts.py)
        logged = self.log.append(events) if self.log is not None else 0
        for topic, msg in events:
            self.transport.publish(topic, {**msg, "logged": logged} if logged else msg)
        if dirty_since is not None and self.metrics is not None:
            self.metrics.notify_lag.observe(time.monotonic() - dirty_since)
        return hosts


class ServerBus:
    """Everything the server side of the bus is: transport, RPC server, notifier, event log
    (the database's, shared by every API worker; see ``bus/events.py``)."""

    def __init__(
        self, sessions: sessionmaker[Session], cfg: DomainConfig, read_sessions: sessionmaker[Session] | None = None,
        transport: Transport | None = None, metrics: Any = None,
    ) -> None:
        """``transport``: RabbitMQ (``bus.amqp``) when configured; default in-process.
        ``metrics``: the server's ``metrics.server.ServerMetrics``, if it keeps any."""
        self.transport = transport or InProcTransport()
        self.rpc = RpcServer(self.transport, sessions, cfg, metrics, read_sessions)
        engine = sessions.kw["bind"]
        read_engine = (read_sessions or sessions).kw["bind"]
        self.events = EventLog(engine, read_engine)
        self.notifier = Notifier(self.transport, sessions, read_sessions, log=self.events, metrics=metrics)
        self.traces = TraceRequests(self.transport, self.events)
        self.rpc.direct[messages.TRACE_RESULT] = self.traces.answer
        self.audits = TraceRequests(self.transport, self.events, AUDIT_TIMEOUT, request=messages.AUDIT_REQUEST,
                                    result=messages.AUDIT_RESULT, topic=messages.AUDIT_TOPIC, field="repair")  # fmt: skip
        self.rpc.direct[messages.AUDIT_RESULT] = self.audits.answer
        self._started = False

    def start(self) -> None:
        if not self._started:
            self._started = True
            self.events.start()
            self.notifier.start()

    def stop(self) -> None:
        if self._started:
            self._started = False
            self.notifier.stop()
            self.events.stop()

    def close(self) -> None:
        self.stop()
        self.transport.close()
