"""Which metadata proxies this host runs, and their haproxy configuration (pure).

One haproxy per namespace, as Neutron's agents spawn them (docs/neutron-behaviour.md,
"Metadata"; docs/metadata.md):

* every router here (admin up): in ``qrouter-<id>``, listening on 0.0.0.0:<metadata_port>
  (9697); the router's NAT table redirects 169.254.169.254 tcp 80 arriving on a qr- device
  there. It names the router (``X-Neutron-Router-ID``): the agent looks the instance up on the
  networks of the router's interfaces;
* every network served here whose metadata is not reached through a router
  (``should_enable_metadata``): in ``qdhcp-<id>``, on 169.254.169.254:80 (an address of the
  DHCP device), naming the network (``X-Neutron-Network-ID``).

Both forward to the agent's unix socket. The client's own X-Forwarded-For and X-Neutron-*
headers are removed before haproxy adds the real source address (``option forwardfor``): an
instance cannot claim another's address.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from neutrino.agent.dhcp import config as dhcp_config
from neutrino.contract.desired import DesiredHostState

METADATA_IP = "169.254.169.254"
METADATA_CIDR = f"{METADATA_IP}/32"
DEFAULT_PORT = 9697
ROUTER_HEADER = "X-Neutron-Router-ID"
NETWORK_HEADER = "X-Neutron-Network-ID"


@dataclass(frozen=True)
class MetadataSettings:
    """The agent's metadata settings (Neutron's names: l3 ``enable_metadata_proxy`` and
    ``metadata_port``, dhcp ``enable_isolated_metadata`` and ``force_metadata``, metadata agent
    ``nova_metadata_*`` as one URL and ``metadata_proxy_shared_secret``)."""

    enable_metadata_proxy: bool = True
    metadata_port: int = DEFAULT_PORT
    enable_isolated_metadata: bool = False
    force_metadata: bool = False
    nova_metadata_url: str | None = None
    shared_secret: str = ""

    def dhcp_settings(self) -> dhcp_config.DhcpSettings:
        """The DHCP agent's settings with these metadata switches."""
        return dhcp_config.DhcpSettings(enable_isolated_metadata=self.enable_isolated_metadata, force_metadata=self.force_metadata)


@dataclass(frozen=True)
class ProxySpec:
    """One haproxy: ``key`` names its files (``router-<id>`` or ``network-<id>``)."""

    key: str
    namespace_base: str
    bind: str
    header: str
    resource_id: str


def wanted(desired: DesiredHostState, settings: MetadataSettings, *, l3: bool, dhcp_networks: list[str]) -> dict[str, ProxySpec]:
    """The proxies this host should run. ``dhcp_networks``: the networks its DHCP agent serves
    now (their namespace and DHCP device exist)."""
    out: dict[str, ProxySpec] = {}
    if l3 and settings.enable_metadata_proxy:
        for r in desired.routers:
            if r.admin_state_up:
                key = f"router-{r.router_id}"
                out[key] = ProxySpec(key, f"qrouter-{r.router_id}", f"0.0.0.0:{settings.metadata_port}", ROUTER_HEADER, r.router_id)
    served = set(dhcp_networks)
    for n in desired.dhcp_networks:
        if n.network_id in served and dhcp_config.should_enable_metadata(n, settings.enable_isolated_metadata, settings.force_metadata):
            key = f"network-{n.network_id}"
            out[key] = ProxySpec(key, f"qdhcp-{n.network_id}", f"{METADATA_IP}:80", NETWORK_HEADER, n.network_id)
    return out


def router_networks(desired: DesiredHostState) -> dict[str, list[str]]:
    """Router id -> the networks of its interfaces (where its instances are looked up)."""
    return {r.router_id: sorted({i.network_id for i in r.interfaces}) for r in desired.routers}


def haproxy_config(spec: ProxySpec, socket_path: Path, pidfile: Path) -> str:
    other = NETWORK_HEADER if spec.header == ROUTER_HEADER else ROUTER_HEADER
    return "\n".join([
        "global",
        "    maxconn 1024",
        f"    pidfile {pidfile}",
        "    daemon",
        "",
        "defaults",
        "    mode http",
        "    option http-server-close",
        "    option forwardfor",
        "    retries 3",
        "    timeout http-request 30s",
        "    timeout connect 30s",
        "    timeout client 32s",
        "    timeout server 32s",
        "    timeout http-keep-alive 30s",
        "",
        "listen listener",
        f"    bind {spec.bind}",
        f"    server metadata {socket_path}",
        "    http-request del-header X-Forwarded-For",
        f"    http-request del-header {other}",
        f"    http-request set-header {spec.header} {spec.resource_id}",
        "",
    ])  # fmt: skip
