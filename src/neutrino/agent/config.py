"""The settings of ``neutrino agent``: section ``[agent]`` of a TOML file, then the command line.

One agent process runs the agents of one host (``roles``: l2, dhcp, l3). The same loader serves
the CLI (``neutrino agent --config /etc/neutrino/agent.toml``), the lab (which writes one file per
emulated host) and the test of the deployment examples, so an example that loads here is one the
CLI accepts. Standard library only (tomllib): an agent process loads nothing heavy.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ROLES = ("l2", "dhcp", "l3")
FIREWALL_DRIVERS = ("iptables_hybrid", "openvswitch", "noop")
"""Neutron's ``[securitygroup] firewall_driver`` values for the OVS agent: security groups on a
per-port qbr (here nftables, the default), as OpenFlow with OVS conntrack on br-int, or none."""


def firewall_driver_of(firewall: bool, driver: str | None) -> str:
    """The driver in effect: ``firewall = false`` is the noop driver whatever ``driver`` says."""
    return "noop" if not firewall else (driver or "iptables_hybrid")


def hybrid_plug_required(driver: str) -> bool:
    """Neutron's ``OVS_HYBRID_PLUG_REQUIRED``: only the iptables_hybrid driver filters on a qbr;
    with the others the tap goes straight on br-int (docs/neutron-behaviour.md)."""
    return driver == "iptables_hybrid"

MECHANISMS = ("openvswitch", "linuxbridge")
DEFAULT_STATE_DIR = Path("/var/lib/neutrino/agent")
DEFAULT_CLOUDS_YAML = Path("/var/lib/neutrino/clouds.yaml")
"""Where `neutrino server` writes it on its own host; agent hosts get a copy (docs/deployment.md)."""


@dataclass(frozen=True)
class AgentConfig:
    host: str
    roles: tuple[str, ...] = ("l2",)
    server_url: str | None = None
    """The neutrino server; default: clouds.yaml's auth_url without its /identity path."""
    transport_url: str | None = None
    """RabbitMQ (amqp://user:password@host:5672/vhost) instead of HTTP to the server; the server
    must have the same ``transport_url``."""
    clouds_yaml: Path = DEFAULT_CLOUDS_YAML
    """Credentials of an admin (cloud ``neutrino``), as the openstack CLI reads them."""
    mechanism: str = "openvswitch"
    """How this host switches: Open vSwitch (br-int, hybrid plug) or Linux bridges (a brq
    bridge per network, kernel VXLAN devices); the ML2 mechanism driver of the same name binds
    ports to it."""
    bridge_mappings: dict[str, str] = field(default_factory=dict)
    physical_interface_mappings: dict[str, str] = field(default_factory=dict)
    """linuxbridge: physnet -> the interface its networks' bridges take as uplink."""
    arp_proxy: bool = True
    """linuxbridge: answer ARP/ND for remote ports locally (l2population). The kernel's proxy
    swallows ARP replies sent into the tunnel, so in a cloud with OVS hosts those must run
    their ARP responder (docs/dataplane.md)."""
    arp_responder: bool = True
    """openvswitch: answer ARP requests for remote ports on br-tun (Neutron's ``arp_responder``
    with l2population; Neutron's default is off, docs/dataplane.md says why it is on here)."""
    tunnel_types: tuple[str, ...] = ()
    tunneling_ip: str | None = None
    datapath_type: str | None = None
    """OVS datapath of the bridges the agent adds; default: detected (system if the module loads)."""
    userspace_tso_ports: bool = False
    """OVS userspace datapath: enable its userspace TSO (OVS >= 3.1) and let instances on flat and
    VLAN networks hand it offloaded TCP (about five times faster). Only where no router joins
    networks of different MTUs and every flat and VLAN network has its physical network's MTU:
    OVS 3.1 cuts such packets by its output port's MTU, not their MSS (docs/dataplane.md,
    "Userspace TSO", "OVS VXLAN on the userspace datapath"). Not needed where the probe found
    that vswitchd keeps the segment size."""
    firewall: bool = True
    """Security groups as nftables (False: Neutron's noop firewall driver)."""
    firewall_driver: str | None = None
    """``iptables_hybrid`` (default: nftables on each port's qbr), ``openvswitch`` (OpenFlow with
    OVS conntrack on br-int, ports plugged straight on br-int) or ``noop``; OVS agents only."""
    netns: str | None = None
    """The namespace that is this host; None on a real host (the root namespace)."""
    ovs_dir: Path | None = None
    """A private OVS run directory; None for the system's Open vSwitch."""
    prefix: str = ""
    """Prefix of the namespaces the agent creates (qdhcp-, qrouter-); the lab's is ``<lab>-<host>-``."""
    state_dir: Path = DEFAULT_STATE_DIR
    report_interval: float = 30.0
    resync_interval: float = 60.0
    audit_interval: float = 60.0
    """Seconds between audits of the host's dataplane against the desired state (docs/audit.md); 0: none."""
    audit_repair: bool = True
    """Repair the drift a periodic audit finds (docs/audit.md, "Why repair is on by default")."""
    metrics_bind: str | None = None
    """``ADDRESS:PORT`` of the agent's Prometheus endpoint (``/metrics``, admin token); None: off.
    The lab binds each agent to its host's management address, port 9110."""
    availability_zone: str = "nova"
    """The zone the DHCP and L3 agents report (Neutron's [AGENT] availability_zone)."""
    enable_metadata_proxy: bool = True
    """A metadata proxy in every router's namespace (Neutron's l3 agent setting; docs/metadata.md)."""
    metadata_port: int = 9697
    enable_isolated_metadata: bool = False
    """A metadata proxy in the DHCP namespace of networks without a router (Neutron's, default off)."""
    force_metadata: bool = False
    """The same in the DHCP namespace of every network."""
    nova_metadata_url: str | None = None
    """An upstream metadata API (Nova's, http://host:8775) to forward to, signed; None: answer here."""
    metadata_proxy_shared_secret: str = ""
    dhcp_lease_duration: int = 86400
    """Seconds a DHCP lease lasts (Neutron's ``dhcp_lease_duration``; -1: infinite). dnsmasq
    rounds anything under 120 up to 120."""
    ha_vrrp_advert_int: float = 2
    """Seconds between the VRRP adverts of HA routers' keepalived (Neutron's default 2; below
    a second, or fractional, uses VRRP version 3)."""

    @property
    def ovs_hybrid_plug(self) -> bool:
        """Whether instances need the hybrid plug (tap -> qbr -> qvb/qvo -> br-int): only where
        the firewall filters on the qbr (Neutron's iptables_hybrid, here nftables); with the noop
        and openvswitch drivers the tap goes straight on br-int. Reported in the OVS agent's
        configurations, copied by the mechanism driver into the binding's vif_details."""
        return hybrid_plug_required(firewall_driver_of(self.firewall, self.firewall_driver))


_PATHS = {"clouds_yaml", "ovs_dir", "state_dir"}
_TUPLES = {"roles", "tunnel_types"}
_TABLES = {"bridge_mappings": "bridge", "physical_interface_mappings": "interface"}


def _normalise(key: str, value: Any, source: str) -> Any:
    if value is None:
        return None
    if key in _PATHS:
        return Path(value)
    if key in _TUPLES:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
            raise ValueError(f"{source}: {key} must be a list of strings")
        return tuple(i.strip().lower() for i in items if i.strip())
    if key in _TABLES:
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ValueError(f"{source}: {key} must be a table of physnet = \"{_TABLES[key]}\"")
        return dict(value)
    if key == "mechanism" and value not in MECHANISMS:
        raise ValueError(f"{source}: mechanism must be one of {', '.join(MECHANISMS)}, not {value!r}")
    if key in ("firewall", "arp_proxy", "arp_responder", "audit_repair", "enable_metadata_proxy", "enable_isolated_metadata",
               "force_metadata") and not isinstance(value, bool):
        raise ValueError(f"{source}: {key} must be true or false")
    if key == "firewall_driver" and value not in FIREWALL_DRIVERS:
        raise ValueError(f"{source}: firewall_driver must be one of {', '.join(FIREWALL_DRIVERS)}, not {value!r}")
    if key == "metadata_port" and (not isinstance(value, int) or not 0 < value < 65536):
        raise ValueError(f"{source}: metadata_port must be a port number")
    if key == "metrics_bind":
        parse_bind(value, source)
    if key == "availability_zone" and (not isinstance(value, str) or not value.strip() or len(value) > 255):
        raise ValueError(f"{source}: availability_zone must be a name of at most 255 characters")
    if key == "ha_vrrp_advert_int" and (
        not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.01 <= value <= 255
    ):
        raise ValueError(f"{source}: ha_vrrp_advert_int must be seconds from 0.01 to 255")
    if key in ("report_interval", "resync_interval") and (not isinstance(value, (int, float)) or value <= 0):
        raise ValueError(f"{source}: {key} must be a positive number of seconds")
    if key == "audit_interval" and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
        raise ValueError(f"{source}: audit_interval must be a number of seconds (0: no periodic audit)")
    if key == "dhcp_lease_duration" and (isinstance(value, bool) or not isinstance(value, int) or not (value > 0 or value == -1)):
        raise ValueError(f"{source}: dhcp_lease_duration must be a positive number of seconds or -1 (infinite)")
    return value


def parse_bind(value: Any, source: str = "metrics_bind") -> tuple[str, int]:
    """``"ADDRESS:PORT"`` (IPv6 in brackets) as (address, port); ValueError in one line."""
    text = str(value)
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{source}: metrics_bind must be ADDRESS:PORT, not {text!r}")
    return host.strip("[]"), int(port)


def read_file(path: Path) -> dict[str, Any]:
    """The ``[agent]`` table of ``path``, checked: unknown keys are an error, not ignored."""
    try:
        doc = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path} is not TOML: {exc}") from exc
    table = doc.get("agent")
    if not isinstance(table, dict):
        raise ValueError(f"{path} has no [agent] section")
    known = {f.name for f in fields(AgentConfig)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ValueError(f"{path}: unknown key(s) in [agent]: {', '.join(unknown)}")
    return {k: _normalise(k, v, str(path)) for k, v in table.items()}


def load_agent_config(config_file: Path | None = None, **overrides: Any) -> AgentConfig:
    """Defaults < the file's ``[agent]`` < ``overrides`` (command-line values; None or empty
    means not given). ValueError with a one-line message when the result is unusable."""
    values = read_file(config_file) if config_file is not None else {}
    for key, value in overrides.items():
        value = _normalise(key, value, "command line")
        if value not in (None, "", (), {}):
            values[key] = value
    if not values.get("host"):
        raise ValueError("no host: give --host or host = \"...\" in [agent]")
    roles = values.get("roles", ("l2",))
    bad = [r for r in roles if r not in ROLES]
    if bad or not roles:
        raise ValueError(f"roles {', '.join(bad) or '(none)'}: choose from {', '.join(ROLES)}")
    if values.get("tunnel_types") and not values.get("tunneling_ip"):
        raise ValueError("tunnel_types needs tunneling_ip (this host's tunnel endpoint address)")
    return AgentConfig(**values)


def render(config: AgentConfig) -> str:
    """``config`` as the TOML file ``load_agent_config`` reads back (the lab writes these).
    Values are strings, numbers, booleans, string lists and one string table: JSON's
    spelling of each is valid TOML."""
    import json

    lines = ["[agent]"]
    tables: dict[str, dict[str, str]] = {}
    for f in fields(AgentConfig):
        value = getattr(config, f.name)
        if value is None:
            continue
        if f.name in _TABLES:
            tables[f.name] = value
            continue
        if isinstance(value, Path):
            value = str(value)
        if isinstance(value, tuple):
            value = list(value)
        lines.append(f"{f.name} = {json.dumps(value)}")
    for name, mappings in tables.items():
        if mappings:
            lines.append("")
            lines.append(f"[agent.{name}]")
            lines += [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in mappings.items()]
    return "\n".join(lines) + "\n"
