"""The server's side of the bus: answer agents' calls and tell hosts when to look again.

Calls (topic ``q-plugin``): the desired state of a host (the projection), state reports
(heartbeats), device up/down lists and DHCP readiness; each runs in its own transaction.

Notifications are level-triggered. Every committed write transaction wakes the ``Notifier``,
which recomputes the desired-state fingerprint of each host that has agents and publishes
``host_changed`` (with a revision number that only grows) to the hosts whose fingerprint
changed. Bursts of commits coalesce into one pass. There is no per-change bookkeeping of
"which hosts does this change affect" to get wrong: the projection decides, and an agent that
missed a message still converges at its periodic resync.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from neutrino import errors
from neutrino.bus.events import EventLog
from neutrino.bus.transport import Transport
from neutrino.contract import messages as m
from neutrino.db.engine import run_in_transaction
from neutrino.domain.models import Agent
from neutrino.domain.projection.build import project_host
from neutrino.domain.services import agents, port_status
from neutrino.domain.services.common import DomainConfig

LOG = logging.getLogger(__name__)


class RpcServer:
    def __init__(self, transport: Transport, sessions: sessionmaker[Session], cfg: DomainConfig) -> None:
        self.sessions = sessions
        self.cfg = cfg
        transport.serve(m.PLUGIN_TOPIC, self.handle)

    def handle(self, msg: dict[str, Any]) -> dict[str, Any]:
        m.check(msg)
        method = msg["method"]
        try:
            if method == m.GET_DESIRED_STATE:
                return self._run(lambda s: {"state": m.encode_state(project_host(s, msg["host"]))})
            if method == m.REPORT_STATE:
                return self._run(lambda s: {"result": self._report(s, msg)})
            if method == m.UPDATE_DEVICE_LIST:
                return self._run(lambda s: self._devices(s, msg))
            if method == m.DHCP_READY:
                return self._run(lambda s: {"ports": port_status.dhcp_ready(s, msg["port_ids"])})
            if method == m.CREATE_DHCP_PORT:
                return self._run(lambda s: {"port_id": self._dhcp_port(s, msg["host"], msg["network_id"])})
            if method == m.BIND_PORTS:
                return self._run(lambda s: {"bound": self._bind_ports(s, msg["host"], msg["port_ids"])})
            if method == m.UPDATE_FIP_STATUSES:
                return self._run(lambda s: {"updated": self._fip_statuses(s, msg["statuses"])})
        except errors.NeutronError as exc:
            return {"error": {"type": type(exc).__name__, "message": str(exc)}}
        return {"error": {"type": "UnknownMethod", "message": f"no method {method!r}"}}

    def _run(self, work: Any) -> dict[str, Any]:
        return run_in_transaction(self.sessions, work)  # type: ignore[no-any-return]

    def _report(self, session: Session, msg: dict[str, Any]) -> str:
        return agents.report_state(
            session, self.cfg, agent_type=msg["agent_type"], binary=msg["binary"], topic=msg["topic"],
            host=msg["host"], configurations=msg["configurations"], start_flag=bool(msg.get("start_flag")),
            availability_zone=msg.get("availability_zone"),
        )  # fmt: skip

    def _devices(self, session: Session, msg: dict[str, Any]) -> dict[str, Any]:
        host, entity = msg["host"], msg.get("entity", port_status.L2)
        up, down = [], []
        for port_id in msg.get("devices_up", ()):
            if port_status.device_up(session, self.cfg, port_id=port_id, host=host, entity=entity) is not None:
                up.append(port_id)
        for port_id in msg.get("devices_down", ()):
            if port_status.device_down(session, self.cfg, port_id=port_id, host=host):
                down.append(port_id)
        return {"devices_up": up, "devices_down": down}


    def _dhcp_port(self, session: Session, host: str, network_id: str) -> str:
        from neutrino.domain.services.dhcp_ports import ensure_dhcp_port

        return ensure_dhcp_port(session, self.cfg, host=host, network_id=network_id)

    def _bind_ports(self, session: Session, host: str, port_ids: list[str]) -> list[str]:
        """Bind the router ports of a router scheduled to ``host`` there, as Neutron's L3 RPC
        does when the agent syncs its routers (``_ensure_host_set_on_port``). Only network-owned
        ports: an agent cannot move an instance's port."""
        from neutrino.domain.context import Context
        from neutrino.domain.ml2.port_ext import binding_of
        from neutrino.domain.models import Port
        from neutrino.domain.services import ports

        bound = []
        states = binding_of(session, list(port_ids))
        for port in session.scalars(select(Port).where(Port.id.in_(list(port_ids)))):
            if not port.device_owner.startswith("network:"):
                continue
            state = states.get(port.id)
            if state is not None and state.host == host and state.vif_type not in ("unbound", "binding_failed"):
                continue
            ports.update(session, Context.admin(port.project_id), self.cfg, port.id, {"binding:host_id": host})
            bound.append(port.id)
        return bound

    def _fip_statuses(self, session: Session, statuses: dict[str, str]) -> list[str]:
        from neutrino.domain.models import FloatingIP

        changed = []
        for fip_id, status in statuses.items():
            fip = session.get(FloatingIP, fip_id)
            if fip is not None and fip.status != status:
                fip.status = status
                changed.append(fip_id)
        return changed


class Notifier:
    """Publishes ``host_changed`` to hosts whose desired state changed since the last pass."""

    def __init__(
        self,
        transport: Transport,
        sessions: sessionmaker[Session],
        read_sessions: sessionmaker[Session] | None = None,
        log: EventLog | None = None,
    ) -> None:
        """``sessions``: the writers' sessionmaker, whose commits wake the notifier;
        ``read_sessions``: what it reads the projections with (no write lock on SQLite);
        ``log``: the database's event log, which also holds the fingerprints last announced
        by any worker (without it, this notifier remembers its own)."""
        self.transport = transport
        self.sessions = sessions
        self.read_sessions = read_sessions or sessions
        self.log = log
        self.revision = 0
        self._fingerprints: dict[str, str] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _after_commit(self, session: Session) -> None:
        self._wake.set()

    def start(self) -> None:
        """Start (or restart: an app's lifespan may run more than once) the notifying thread."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
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
        if event.contains(self.sessions, "after_commit", self._after_commit):
            event.remove(self.sessions, "after_commit", self._after_commit)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=30)  # the timeout makes a lost wake-up heal itself
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.pass_once()
            except Exception:  # noqa: BLE001 - keep notifying; the next commit retries
                LOG.exception("notifier pass failed")

    def pass_once(self) -> list[str]:
        """One comparison of every agent host's fingerprint; returns the hosts notified."""
        with self.read_sessions() as session:
            hosts = sorted(set(session.scalars(select(Agent.host))))
            prints = {h: project_host(session, h).fingerprint for h in hosts}
            session.rollback()
        revision = self.revision + 1

        def message(host: str) -> tuple[str, dict[str, Any]]:
            return m.host_topic(host), m.message(m.HOST_CHANGED, host=host, revision=revision)

        if self.log is not None:
            changed = self.log.announce(prints, message)
        else:
            changed = [h for h, fp in prints.items() if self._fingerprints.get(h) != fp]
            self._fingerprints.update((h, prints[h]) for h in changed)
        if changed:
            self.revision = revision
            for host in changed:
                self.transport.publish(*message(host))
        return changed


class ServerBus:
    """Everything the server side of the bus is: transport, RPC server, notifier, event log
    (the database's, shared by every API worker; see ``bus/events.py``)."""

    def __init__(
        self, sessions: sessionmaker[Session], cfg: DomainConfig, read_sessions: sessionmaker[Session] | None = None,
        transport: Transport | None = None,
    ) -> None:
        """``transport``: RabbitMQ (``bus.amqp``) when configured; default in-process."""
        from neutrino.bus.inproc import InProcTransport

        self.transport = transport or InProcTransport()
        self.rpc = RpcServer(self.transport, sessions, cfg)
        engine = sessions.kw["bind"]
        read_engine = (read_sessions or sessions).kw["bind"]
        self.events = EventLog(engine, read_engine)
        self.notifier = Notifier(self.transport, sessions, read_sessions, log=self.events)
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
