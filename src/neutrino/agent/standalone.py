"""``neutrino agent --host H``: a host's agents in their own process, talking to the server.

The same ``HostAgent`` the in-process test lab embeds, with the HTTP transport (calls go to
``POST /bus/v1/call``, notifications arrive by long polling ``/bus/v1/events``), or RabbitMQ
when a ``transport_url`` (amqp://...) is given (the server must use the same broker). Credentials come
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
from neutrino.agent.metadata.proxies import MetadataSettings
from neutrino.agent.runner import AgentSettings, HostAgent
from neutrino.bus.http import HttpTransport, password_token
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
    if config.firewall_driver == "openvswitch" and config.mechanism != "openvswitch":
        raise ValueError("firewall_driver = \"openvswitch\" needs mechanism = \"openvswitch\"")
    datapath = config.datapath_type
    if datapath is None and config.mechanism == "openvswitch":
        from neutrino.dataplane.ovs import detect_datapath_type

        datapath = detect_datapath_type()
    return AgentSettings(
        roles=config.roles, bridge_mappings=dict(config.bridge_mappings), tunnel_types=list(config.tunnel_types),
        tunneling_ip=config.tunneling_ip, datapath_type=datapath or "netdev", firewall=config.firewall,
        firewall_driver=config.firewall_driver or "iptables_hybrid",
        userspace_tso_ports=config.userspace_tso_ports,
        report_interval=config.report_interval, resync_interval=config.resync_interval,
        audit_interval=config.audit_interval, audit_repair=config.audit_repair,
        state_dir=config.state_dir / config.host / "dhcp", availability_zone=config.availability_zone,
        ha_vrrp_advert_int=config.ha_vrrp_advert_int,
        mechanism=config.mechanism, interface_mappings=dict(config.physical_interface_mappings), arp_proxy=config.arp_proxy,
        arp_responder=config.arp_responder,
        metadata=MetadataSettings(
            enable_metadata_proxy=config.enable_metadata_proxy, metadata_port=config.metadata_port,
            enable_isolated_metadata=config.enable_isolated_metadata, force_metadata=config.force_metadata,
            nova_metadata_url=config.nova_metadata_url, shared_secret=config.metadata_proxy_shared_secret),
        dhcp_lease_duration=config.dhcp_lease_duration,
    )  # fmt: skip


def wait_for_server(config: AgentConfig, url: str, stop: threading.Event) -> bool:
    """Until the server hands out a token for our credentials (a fast first pass once it
    serves, rather than the agent's slower backoff); one line when it does not, one when it
    does. False if stopped first."""
    delay, problem = FIRST_RETRY, None
    while not stop.is_set():
        try:
            password_token(_credentials(config))
            if problem is not None:
                LOG.warning("agent %s: server %s answers", config.host, url)
            return True
        except (OSError, ValueError) as exc:
            if problem is None:
                LOG.warning("agent %s: server %s not reachable (%s); retrying with backoff", config.host, url, exc)
            problem = str(exc)
        stop.wait(delay)
        delay = min(delay * 2, MAX_RETRY)
    return False


def _transport(config: AgentConfig) -> tuple[Any, str]:
    """(transport, where it goes, for the log): RabbitMQ with ``transport_url``, else HTTP.
    Credentials for HTTP are read when a token is needed: in the lab, the server writes them
    as it starts."""
    if config.transport_url:
        from neutrino.bus.amqp import AmqpTransport
        from neutrino.bus.broker_errors import redact

        return AmqpTransport(config.transport_url, name="neutrino-agent"), redact(config.transport_url)
    url = config.server_url or _credentials(config)["auth_url"].split("/identity")[0]
    return HttpTransport(url, lambda: password_token(_credentials(config))), url


def run_agent(config: AgentConfig, stop: threading.Event | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    transport, url = _transport(config)
    context = HostContext(name=config.host, netns=config.netns, ovs_dir=config.ovs_dir, prefix=config.prefix)
    agent = HostAgent(context, transport, settings_for(config))
    stop = stop or threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    started = False
    endpoint = _metrics_endpoint(config, agent)
    try:
        # over RabbitMQ the agent starts at once: the transport reconnects by itself
        if config.transport_url or wait_for_server(config, url, stop):
            agent.start()
            started = True
            LOG.info("agent %s (%s) running against %s", config.host, ",".join(config.roles), url)
        while not stop.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if started:
            agent.stop()
        if endpoint is not None:
            endpoint.stop()
        transport.close()


def _metrics_endpoint(config: AgentConfig, agent: HostAgent) -> Any:
    """The agent's ``/metrics`` listener when ``metrics_bind`` is set (tokens checked with the
    identity service of the clouds.yaml), started; None when off."""
    if not config.metrics_bind:
        return None
    from neutrino.agent.config import parse_bind
    from neutrino.metrics.endpoint import KeystoneAdminCheck, MetricsEndpoint

    address, port = parse_bind(config.metrics_bind)
    auth_url = _credentials(config)["auth_url"]
    check = KeystoneAdminCheck(auth_url, lambda: password_token(_credentials(config)))
    endpoint = MetricsEndpoint(address, port, agent.metrics.render, check)
    endpoint.start()
    LOG.info("agent %s: metrics at http://%s/metrics", config.host, config.metrics_bind)
    return endpoint
