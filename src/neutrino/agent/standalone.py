"""``neutrino agent --host H``: a host's agents in their own process, talking HTTP to the server.

The same ``HostAgent`` the in-process test lab embeds, with the HTTP transport: calls go to
``POST /bus/v1/call``, notifications arrive by long polling ``/bus/v1/events``. Credentials come
from a clouds.yaml (cloud ``neutrino``, an admin), as the openstack CLI's. An unreachable server
at start is one warning line per attempt and a retry with backoff, never an exit: under a
supervisor (systemd, the lab) agents and server may start in any order. Runs until SIGTERM.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

import yaml

from neutrino.agent.config import AgentConfig
from neutrino.agent.runner import AgentSettings, HostAgent
from neutrino.bus.http import HttpTransport, password_token
from neutrino.bus.transport import TransportError
from neutrino.dataplane.host import HostContext

LOG = logging.getLogger(__name__)
FIRST_RETRY = 0.25
MAX_RETRY = 2.0


def _credentials(config: AgentConfig) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(config.clouds_yaml.read_text())
    except OSError as exc:
        raise ValueError(f"cannot read the credentials {config.clouds_yaml}: {exc.strerror}") from None
    try:
        return doc["clouds"]["neutrino"]["auth"]  # type: ignore[no-any-return]
    except (KeyError, TypeError):
        raise ValueError(f"{config.clouds_yaml} has no cloud 'neutrino' with auth") from None


def settings_for(config: AgentConfig) -> AgentSettings:
    datapath = config.datapath_type
    if datapath is None:
        from neutrino.dataplane.ovs import detect_datapath_type

        datapath = detect_datapath_type()
    return AgentSettings(
        roles=config.roles, bridge_mappings=dict(config.bridge_mappings), tunnel_types=list(config.tunnel_types),
        tunneling_ip=config.tunneling_ip, datapath_type=datapath, firewall=config.firewall,
        report_interval=config.report_interval, resync_interval=config.resync_interval,
        state_dir=config.state_dir / config.host / "dhcp",
    )  # fmt: skip


def start_when_reachable(agent: HostAgent, url: str, stop: threading.Event) -> bool:
    """Start ``agent`` (its first state report reaches the server), retrying with backoff;
    False if stopped first."""
    delay = FIRST_RETRY
    while not stop.is_set():
        try:
            agent.start()
            return True
        except (TransportError, OSError) as exc:
            LOG.warning("agent %s: server %s not reachable (%s); retrying in %.1fs", agent.host.name, url, exc, delay)
        stop.wait(delay)
        delay = min(delay * 2, MAX_RETRY)
    return False


def run_agent(config: AgentConfig, stop: threading.Event | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # credentials are read when a token is needed: in the lab, the server writes them as it starts
    url = config.server_url or _credentials(config)["auth_url"].split("/identity")[0]
    transport = HttpTransport(url, lambda: password_token(_credentials(config)))
    context = HostContext(name=config.host, netns=config.netns, ovs_dir=config.ovs_dir, prefix=config.prefix)
    agent = HostAgent(context, transport, settings_for(config))
    stop = stop or threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        if start_when_reachable(agent, url, stop):
            LOG.info("agent %s (%s) running against %s", config.host, ",".join(config.roles), url)
        while not stop.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        agent.stop()
        transport.close()
