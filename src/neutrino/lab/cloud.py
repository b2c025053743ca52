"""The lab's control plane: the server on the controller, the agents on their hosts.

``start`` writes each process's config file, launches the lab's supervisor (lab/supervisor.py),
which runs ``neutrino server`` inside the controller's namespace on its management address and
one ``neutrino agent`` process inside each network and compute host's namespace, and returns
once the API answers and every agent has reported. ``cloud.json`` in the lab's state directory
then records the API's URL and the clouds.yaml the server wrote (its auth URL is the management
address, which the root namespace reaches), so the stock openstack CLI works with
``OS_CLIENT_CONFIG_FILE=<lab>/server/clouds.yaml OS_CLOUD=neutrino``.

``ControlPlane`` is the same server and agents inside one process, for tests that stop and
start a host's agent in-process or read an agent's state.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
from pathlib import Path
from typing import Any

from neutrino.dataplane.errors import DataplaneError
from neutrino.lab import nodes, process_control
from neutrino.lab import resolve

READY_FILE = "cloud.json"


class CloudError(RuntimeError):
    pass


IN_PROCESS: dict[str, dict[str, Any]] = {}
"""Control planes running inside this process (tests), by lab name."""


def info(lab: resolve.ResolvedLab) -> dict[str, Any] | None:
    """{url, pid (the server's), supervisor, clouds_yaml, agents} of the running lab, or None."""
    if lab.name in IN_PROCESS:
        return IN_PROCESS[lab.name]
    try:
        doc = json.loads((lab.state_dir / READY_FILE).read_text())
    except (OSError, ValueError):
        return None
    if process_control.supervisor_pid(lab) is None:
        return None
    doc["pid"] = process_control.pid_of(lab, nodes.SERVER)
    return doc  # type: ignore[no-any-return]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(
    lab: resolve.ResolvedLab,
    timeout: float = 90.0,
    *,
    bus: str | None = None,
    db: str | None = None,
    server_settings: dict[str, Any] | None = None,
    agent_settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Start the lab's processes unless its supervisor runs; wait until they serve and reported.
    A supervisor that had died is started again and adopts the processes still running.
    ``bus``/``db``: ``rabbitmq``/``postgresql`` run them in the controller's namespace
    (lab/services.py); None: what the lab was first brought up with, else HTTP and SQLite.
    ``server_settings``/``agent_settings`` override the lab's (tests: a short agent_down_time)."""
    from neutrino.lab import services

    try:
        chosen = services.settle(lab, bus, db)
    except ValueError as exc:
        raise CloudError(str(exc)) from None
    try:
        if chosen.bus == "rabbitmq":  # also a broker that died: the same URL, so agents reconnect
            services.start_broker(lab)
    except DataplaneError as exc:
        raise CloudError(str(exc)) from None
    running = info(lab)
    if running is not None:
        return running
    (lab.state_dir / READY_FILE).unlink(missing_ok=True)
    try:
        proc = process_control.launch(lab, server=server_settings, agents=agent_settings)
        process_control.wait_ready(lab, proc, timeout)
    except (process_control.ProcessError, DataplaneError) as exc:
        raise CloudError(str(exc)) from None
    doc = {
        "bus": chosen.bus,
        "db": chosen.db,
        "url": nodes.api_url(lab),
        "supervisor": proc.pid,
        "clouds_yaml": str(nodes.clouds_yaml(lab)),
        "agents": sorted(s.node for s in nodes.specs(lab) if s.kind == "agent"),
    }
    tmp = lab.state_dir / (READY_FILE + ".tmp")
    tmp.write_text(json.dumps(doc))
    os.replace(tmp, lab.state_dir / READY_FILE)
    return info(lab) or doc


def stop(lab: resolve.ResolvedLab) -> bool:
    """Stop the supervisor, which stops the agents and the server; True if it was running."""
    from neutrino.dataplane import daemons

    return daemons.stop(process_control.supervisor_pidfile(lab), expect="neutrino", timeout=30.0)


class ControlPlane:
    """The server (app, database), the in-process bus and one agent per OVS host of a lab.

    For tests only (tests/lab/cloud_support.py): in one process they can stop and start a
    single host's agent (an agent restart) while traffic flows, and read its state. Its API
    listens on 127.0.0.1 in the root namespace; ``lab up`` runs the processes instead.
    """

    def __init__(
        self,
        lab: resolve.ResolvedLab,
        port: int | None = None,
        *,
        server_settings: dict[str, Any] | None = None,
        agent_settings: dict[str, Any] | None = None,
    ) -> None:
        """``server_settings`` (ServerSettings fields) and ``agent_settings`` (AgentConfig
        fields) override the lab's: a failover test shortens ``agent_down_time`` and the
        agents' ``report_interval``, say."""
        from neutrino.config import load_server_settings
        from neutrino.server import build

        self.lab = lab
        self.port = port or _free_port()
        wanted = {**nodes.LAB_SCHEDULING, **nodes.ml2_settings(lab), **nodes.lab_server_settings(lab),
                  **(server_settings or {})}  # fmt: skip
        self.settings = load_server_settings(
            None, host="127.0.0.1", port=self.port, state_dir=nodes.server_dir(lab), auth="keystone", **wanted
        )
        self.agent_overrides = dict(agent_settings or {})
        self.built = build(self.settings, isolated_migrations=True)
        self.bus = self.built.state.bus  # started and stopped with the app (its lifespan)
        self.transport = self.bus.transport
        self.agents: dict[str, Any] = {}

    def agent_settings(self, h: resolve.ResolvedHost) -> Any:
        from neutrino.agent.standalone import settings_for

        config = nodes.agent_config(self.lab, h, url=self.settings.url)
        return settings_for(dataclasses.replace(config, **self.agent_overrides))

    def start_agent(self, host: str) -> Any:
        from neutrino.agent.runner import HostAgent

        h = self.lab.host(host)
        agent = HostAgent(h.context, self.transport, self.agent_settings(h))
        agent.start()
        self.agents[host] = agent
        return agent

    def stop_agent(self, host: str) -> None:
        agent = self.agents.pop(host, None)
        if agent is not None:
            agent.stop()

    def start(self) -> None:
        self.bus.start()
        for h in self.lab.hosts:
            if h.has_dataplane:
                self.start_agent(h.name)

    def close(self) -> None:
        for host in list(self.agents):
            self.stop_agent(host)
        self.built.state.close()


def admin_token(lab: resolve.ResolvedLab) -> tuple[str, str]:
    """(API URL, token) for the lab's admin, from its clouds.yaml."""
    import yaml

    doc = info(lab)
    if doc is None:
        raise CloudError(f"lab {lab.name} has no running server (`./dev neutrino lab up --name {lab.name}` starts it)")
    from neutrino.bus.http import password_token

    auth = yaml.safe_load(Path(doc["clouds_yaml"]).read_text())["clouds"]["neutrino"]["auth"]
    return doc["url"], password_token(auth)
