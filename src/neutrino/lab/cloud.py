"""The lab's control plane: one background process with the API server and every host's agents.

``start`` launches ``neutrino lab serve`` detached (pidfile ``neutrino.pid`` in the lab's state
directory, log ``server.log``) and returns once the API answers and every agent has reported.
That process builds the server (state in ``<lab>/server``, keystone auth, ML2 ranges derived
from the lab file), wires the in-process bus (RPC server, notifier) and runs one ``HostAgent``
per OVS host, each working in its host's namespace through the host context. The stock
openstack CLI talks to it with ``OS_CLIENT_CONFIG_FILE=<lab>/server/clouds.yaml OS_CLOUD=neutrino``.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from neutrino.dataplane import daemons
from neutrino.lab import resolve as rs

LOG = logging.getLogger(__name__)
PIDFILE = "neutrino.pid"
READY_FILE = "cloud.json"
VLAN_RANGE = "100:199"
VNI_RANGE = "1000:1999"
LAB_SERVER_SETTINGS: dict[str, Any] = {"allow_automatic_l3agent_failover": True}
"""A lab with two network nodes moves routers off a dead L3 agent (Neutron's default is off)."""


class CloudError(RuntimeError):
    pass


def server_dir(lab: rs.ResolvedLab) -> Path:
    return lab.state_dir / "server"


IN_PROCESS: dict[str, dict[str, Any]] = {}
"""Control planes running inside this process (tests), by lab name."""


def info(lab: rs.ResolvedLab) -> dict[str, Any] | None:
    """{url, pid, clouds_yaml, ...} of the running control plane, or None."""
    if lab.name in IN_PROCESS:
        return IN_PROCESS[lab.name]
    try:
        doc = json.loads((lab.state_dir / READY_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not daemons.alive(daemons.read_pid(lab.state_dir / PIDFILE), "neutrino"):
        return None
    return doc  # type: ignore[no-any-return]


def ml2_settings(lab: rs.ResolvedLab) -> dict[str, Any]:
    physnets = sorted({p for h in lab.hosts for p in h.bridge_mappings} - {lab.external_physnet})
    return {
        "type_drivers": ["flat", "vlan", "vxlan"],
        "tenant_network_types": ["vxlan"] if lab.tunnel_cidr else (["vlan"] if physnets else ["flat"]),
        "mechanism_drivers": ["openvswitch"],
        "network_vlan_ranges": [f"{p}:{VLAN_RANGE}" for p in physnets],
        "flat_networks": sorted({p for h in lab.hosts for p in h.bridge_mappings}),
        "vni_ranges": [VNI_RANGE] if lab.tunnel_cidr else [],
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(lab: rs.ResolvedLab, timeout: float = 60.0) -> dict[str, Any]:
    """Start the control plane if it is not running; wait until it serves and agents reported."""
    running = info(lab)
    if running is not None:
        return running
    (lab.state_dir / READY_FILE).unlink(missing_ok=True)
    log = open(lab.state_dir / "server.log", "ab")  # noqa: SIM115 - handed to the child
    env = {**os.environ, "NEUTRINO_LAB_DIR": str(lab.state_dir.parent)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "neutrino.cli.main", "lab", "serve", "--name", lab.name],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True,
    )  # fmt: skip
    log.close()
    (lab.state_dir / PIDFILE).write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise CloudError(f"the lab's server exited ({proc.returncode}); see {lab.state_dir / 'server.log'}")
        doc = info(lab)
        if doc is not None:
            return doc
        time.sleep(0.1)
    raise CloudError(f"the lab's server was not ready within {timeout:g}s; see {lab.state_dir / 'server.log'}")


def stop(lab: rs.ResolvedLab) -> bool:
    return daemons.stop(lab.state_dir / PIDFILE, expect="neutrino", timeout=10.0)


class ControlPlane:
    """The server (app, database), the in-process bus and one agent per OVS host of a lab.

    ``neutrino lab serve`` runs one under uvicorn; tests run one in-process, where they can
    stop and start a single host's agent (an agent restart) while traffic flows.
    """

    def __init__(
        self,
        lab: rs.ResolvedLab,
        port: int | None = None,
        *,
        server_settings: dict[str, Any] | None = None,
        agent_settings: dict[str, Any] | None = None,
    ) -> None:
        """``server_settings`` and ``agent_settings`` override the lab's defaults (a failover
        test shortens ``agent_down_time`` and the agents' ``report_interval``, say)."""
        from neutrino.config import load_server_settings
        from neutrino.server import build

        self.lab = lab
        self.port = port or _free_port()
        wanted = {**LAB_SERVER_SETTINGS, **ml2_settings(lab), **(server_settings or {})}
        self.settings = load_server_settings(
            None, host="127.0.0.1", port=self.port, state_dir=server_dir(lab), auth="keystone", **wanted
        )
        self.agent_overrides = dict(agent_settings or {})
        self.built = build(self.settings, isolated_migrations=True)
        self.bus = self.built.state.bus  # started and stopped with the app (its lifespan)
        self.transport = self.bus.transport
        self.agents: dict[str, Any] = {}

    def agent_settings(self, h: rs.ResolvedHost) -> Any:
        from neutrino.agent.runner import AgentSettings

        tunnel_ip = h.tunnel_ip.split("/")[0] if h.tunnel_ip else None
        roles = ("l2", "dhcp", "l3") if "network" in h.roles else ("l2",)
        return AgentSettings(
            roles=roles,
            state_dir=self.lab.state_dir / h.name / "dhcp",
            bridge_mappings=dict(h.bridge_mappings),
            tunnel_types=["vxlan"] if tunnel_ip else [],
            tunneling_ip=tunnel_ip,
            datapath_type=h.datapath,
            # NEUTRINO_LAB_FIREWALL=0 runs without security groups (Neutron's noop firewall driver)
            firewall=os.environ.get("NEUTRINO_LAB_FIREWALL", "1") != "0",
            **self.agent_overrides,
        )

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
            if h.has_ovs:
                self.start_agent(h.name)

    def close(self) -> None:
        for host in list(self.agents):
            self.stop_agent(host)
        self.built.state.close()


def serve(lab: rs.ResolvedLab) -> None:
    """Run in the foreground: server, bus and agents, until SIGTERM."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    plane = ControlPlane(lab)
    plane.start()
    config = uvicorn.Config(plane.built.app, host="127.0.0.1", port=plane.port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)

    def ready() -> None:
        while not server.started:
            time.sleep(0.05)
        doc = {
            "url": plane.settings.url,
            "pid": os.getpid(),
            "clouds_yaml": str(server_dir(lab) / "clouds.yaml"),
            "agents": sorted(plane.agents),
        }
        tmp = lab.state_dir / (READY_FILE + ".tmp")
        tmp.write_text(json.dumps(doc))
        os.replace(tmp, lab.state_dir / READY_FILE)

    threading.Thread(target=ready, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))
    try:
        server.run()
    finally:
        plane.close()


def admin_token(lab: rs.ResolvedLab) -> tuple[str, str]:
    """(API URL, token) for the lab's admin, from its clouds.yaml."""
    import yaml

    doc = info(lab)
    if doc is None:
        raise CloudError(f"lab {lab.name} has no running server (`neutrino lab up --name {lab.name}` starts it)")
    from neutrino.bus.http import password_token

    auth = yaml.safe_load(Path(doc["clouds_yaml"]).read_text())["clouds"]["neutrino"]["auth"]
    return doc["url"], password_token(auth)
