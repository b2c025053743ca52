"""``neutrino agent --host H``: a host's agents in their own process.

The same ``HostAgent`` the lab embeds, with a transport to a server in another process:
RabbitMQ when a ``transport_url`` (amqp://...) is given (the server must use the same broker
and vhost), else HTTP to the server: calls go to ``POST /bus/v1/call``, notifications arrive by
long polling ``/bus/v1/events``, with credentials from a clouds.yaml (cloud ``neutrino``, an
admin), as the openstack CLI's. Runs until SIGTERM or Ctrl-C; a broker or server that is away
is reported once and retried with backoff.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Any

import yaml

from neutrino.agent.runner import AgentSettings, HostAgent
from neutrino.bus.http import HttpTransport, password_token
from neutrino.dataplane.host import HostContext
from neutrino.dataplane.ovs import detect_datapath_type

LOG = logging.getLogger(__name__)


def _credentials(clouds_yaml: Path) -> dict[str, Any]:
    doc = yaml.safe_load(clouds_yaml.read_text())
    try:
        return doc["clouds"]["neutrino"]["auth"]  # type: ignore[no-any-return]
    except (KeyError, TypeError):
        raise ValueError(f"{clouds_yaml} has no cloud 'neutrino' with auth") from None


def _transport(transport_url: str | None, server_url: str | None, clouds_yaml: Path | None) -> tuple[Any, str]:
    """(transport, where it goes for the log); ValueError for a malformed URL or clouds.yaml."""
    if transport_url:
        from neutrino.bus.amqp import AmqpTransport
        from neutrino.bus.broker_errors import redact

        return AmqpTransport(transport_url, name="neutrino-agent"), redact(transport_url)
    clouds_yaml = clouds_yaml or Path("/var/lib/neutrino/clouds.yaml")
    auth = _credentials(clouds_yaml)
    url = server_url or auth["auth_url"].split("/identity")[0]
    return HttpTransport(url, lambda: password_token(auth)), url


def run_agent(*, host: str, roles: tuple[str, ...], server_url: str | None, clouds_yaml: Path | None,
              bridge_mappings: dict[str, str], tunnel_types: list[str], tunneling_ip: str | None,
              netns: str | None, ovs_dir: Path | None, prefix: str, state_dir: Path,
              transport_url: str | None = None, stop: threading.Event | None = None) -> None:  # fmt: skip
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    transport, url = _transport(transport_url, server_url, clouds_yaml)
    context = HostContext(name=host, netns=netns, ovs_dir=ovs_dir, prefix=prefix)
    settings = AgentSettings(
        roles=roles, bridge_mappings=bridge_mappings, tunnel_types=tunnel_types, tunneling_ip=tunneling_ip,
        datapath_type=detect_datapath_type(), state_dir=state_dir / host / "dhcp",
    )  # fmt: skip
    agent = HostAgent(context, transport, settings)
    stop = stop or threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    agent.start()
    LOG.info("agent %s (%s) running against %s", host, ",".join(roles), url)
    try:
        while not stop.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        agent.stop()
        transport.close()
