"""What each node of a lab runs, as data: the server on the controller, one agent per host.

The seed's picture: ``neutrino server`` inside the controller's namespace, listening on its
management address; on every network and compute host a ``neutrino agent`` process inside that
host's namespace, reaching the server over the management network (HTTP transport). Each
process has a config file (the server's TOML, an agent's ``agent.toml``: the files a real
deployment uses, docs/deployment.md), a log and a pidfile under the lab's state directory, and
a stop marker that tells the supervisor it was stopped on purpose. Pure: nothing here touches
the machine but ``write_configs``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neutrino.agent.config import AgentConfig, render
from neutrino.lab import resolve
from neutrino.lab import services

SERVER = "server"
API_PORT = 9696
AGENT_METRICS_PORT = 9110
"""Each agent's Prometheus endpoint, on its host's management address (docs/observability.md)."""
VLAN_RANGE = "100:199"
VNI_RANGE = "1000:1999"
LAB_SCHEDULING: dict[str, Any] = {"allow_automatic_l3agent_failover": True}
"""A lab with two network nodes moves routers off a dead L3 agent (Neutron's default is off)."""


@dataclass(frozen=True)
class ProcessSpec:
    name: str  # "server", "agent-<host>"
    kind: str  # "server" or "agent"
    node: str  # the lab host it runs on
    netns: str
    config: Path
    log: Path
    pidfile: Path
    stop_marker: Path

    @property
    def argv(self) -> list[str]:
        """The command, entering only the host's network namespace (``nsenter --net``, not
        ``ip netns exec``, whose private mount namespace would hide the qdhcp and qrouter
        namespaces an agent creates from the rest of the machine)."""
        command = "server" if self.kind == SERVER else "agent"
        return ["nsenter", f"--net=/run/netns/{self.netns}", sys.executable, "-m", "neutrino.cli.main",
                command, "--config", str(self.config)]  # fmt: skip


def server_dir(lab: resolve.ResolvedLab) -> Path:
    return lab.state_dir / "server"


def api_url(lab: resolve.ResolvedLab) -> str:
    return f"http://{lab.controller.address}:{API_PORT}"


def clouds_yaml(lab: resolve.ResolvedLab) -> Path:
    return server_dir(lab) / "clouds.yaml"


def specs(lab: resolve.ResolvedLab) -> list[ProcessSpec]:
    """The server first, then one agent process per host with Open vSwitch, in host order."""
    procs = lab.state_dir / "procs"

    def spec(name: str, kind: str, host: resolve.ResolvedHost, config: Path, log: Path) -> ProcessSpec:
        return ProcessSpec(name=name, kind=kind, node=host.name, netns=host.netns, config=config, log=log,
                           pidfile=procs / f"{name}.pid", stop_marker=procs / f"{name}.stopped")  # fmt: skip

    # logs where a host's other logs are (its OVS daemons', its dnsmasq's), the server's at the top
    out = [spec(SERVER, SERVER, lab.controller, lab.state_dir / "server.toml", lab.state_dir / "server.log")]
    for h in lab.hosts:
        if h.has_dataplane:
            host_dir = lab.state_dir / h.name
            out.append(spec(f"agent-{h.name}", "agent", h, host_dir / "agent.toml", host_dir / "agent.log"))
    return out


def find(lab: resolve.ResolvedLab, name: str) -> ProcessSpec:
    """The process ``name``; a host name means that host's agent."""
    for spec in specs(lab):
        if name == spec.name or (spec.kind == "agent" and name == spec.node):
            return spec
    known = ", ".join(s.name for s in specs(lab))
    raise KeyError(f"lab {lab.name} has no process {name!r} (processes: {known})")


def ml2_settings(lab: resolve.ResolvedLab) -> dict[str, Any]:
    """ML2 ranges that match the lab's wiring: VLANs on its physnets, VXLAN if it has a tunnel;
    and the MTU of its underlay links (the lab file's ``defaults.mtu``) as ``global_physnet_mtu``,
    as a deployer sets it to the physical network's MTU: a jumbo underlay then gives tunnelled
    networks 50 bytes less than the links (docs/dataplane.md, "MTU on tunnels")."""
    physnets = sorted({p for h in lab.hosts for p in h.bridge_mappings} - {lab.external_physnet})
    return {
        "global_physnet_mtu": lab.mtu,
        "type_drivers": ["flat", "vlan", "vxlan"],
        "tenant_network_types": ["vxlan"] if lab.tunnel_cidr else (["vlan"] if physnets else ["flat"]),
        "mechanism_drivers": sorted({h.mechanism for h in lab.hosts if h.has_dataplane}, reverse=True) or ["openvswitch"],
        "network_vlan_ranges": [f"{p}:{VLAN_RANGE}" for p in physnets],
        "flat_networks": sorted({p for h in lab.hosts for p in h.bridge_mappings}),
        "vni_ranges": [VNI_RANGE] if lab.tunnel_cidr else [],
    }


def lab_server_settings(lab: resolve.ResolvedLab) -> dict[str, Any]:
    """The lab file's own ``server:`` settings (an HA lab turns ``l3_ha`` on, say)."""
    return dict(lab.source.get("server") or {})


def lab_agent_settings(lab: resolve.ResolvedLab, host: str | None = None) -> dict[str, Any]:
    """The lab file's own ``agents:`` settings, for every agent of the lab, then those of
    ``host``'s own ``agents:`` (a host whose agents run without the firewall, say)."""
    own = ((lab.source.get("hosts") or {}).get(host) or {}).get("agents") if host else None
    return {**(lab.source.get("agents") or {}), **(own or {})}


def server_settings(lab: resolve.ResolvedLab, chosen: services.Services | None = None,
                    transport_url: str | None = None) -> dict[str, Any]:  # fmt: skip
    """The ``[server]`` table of the lab's server.toml: on the controller's management address;
    with PostgreSQL several API workers, with RabbitMQ the broker as the agents' bus."""
    chosen = chosen or services.Services()
    out: dict[str, Any] = {
        "host": lab.controller.address,
        "port": API_PORT,
        "state_dir": str(server_dir(lab)),
        "auth": "keystone",
        **LAB_SCHEDULING,
        **ml2_settings(lab),
        **lab_server_settings(lab),
    }
    database_url = services.database_url(lab, chosen)
    if database_url:
        out["database_url"] = database_url
        out["workers"] = services.SERVER_WORKERS_ON_POSTGRES
    if transport_url:
        out["transport_url"] = transport_url
    return out


def agent_config(lab: resolve.ResolvedLab, host: resolve.ResolvedHost, *, url: str | None = None,
                 transport_url: str | None = None) -> AgentConfig:  # fmt: skip
    """The agents of ``host``: l2 everywhere, dhcp and l3 on network nodes, in the host's
    namespace with its private OVS. ``url``: the server (default: the lab's API);
    ``transport_url``: RabbitMQ instead of HTTP; the lab file's ``agents:`` settings, then the
    host's own, last."""
    config = AgentConfig(
        host=host.name,
        roles=("l2", "dhcp", "l3") if "network" in host.roles else ("l2",),
        server_url=url or api_url(lab),
        transport_url=transport_url,
        clouds_yaml=clouds_yaml(lab),
        mechanism=host.mechanism,
        bridge_mappings={} if host.linuxbridge else dict(host.bridge_mappings),
        physical_interface_mappings=dict(host.bridge_mappings) if host.linuxbridge else {},
        tunnel_types=("vxlan",) if host.tunnel_ip else (),
        tunneling_ip=host.tunnel_ip.split("/")[0] if host.tunnel_ip else None,
        datapath_type=None if host.linuxbridge else host.datapath,
        # NEUTRINO_LAB_FIREWALL=0 runs without security groups (Neutron's noop firewall driver)
        firewall=os.environ.get("NEUTRINO_LAB_FIREWALL", "1") != "0",
        netns=host.netns,
        ovs_dir=host.ovs_dir,
        prefix=host.prefix,
        state_dir=lab.state_dir,
        metrics_bind=f"{host.address}:{AGENT_METRICS_PORT}" if host.address else None,
        enable_isolated_metadata=True,  # the lab's instances reach metadata on networks without a router too
    )
    return dataclasses.replace(config, **lab_agent_settings(lab, host.name))


def render_server_toml(settings: dict[str, Any]) -> str:
    """Strings, numbers and string lists: JSON's spelling of each is valid TOML; a table (such
    as ``physical_network_mtus``) becomes an inline table of those."""

    def value(v: Any) -> str:
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(str(k))} = {json.dumps(x)}" for k, x in v.items()) + "}"
        return json.dumps(v)

    return "[server]\n" + "".join(f"{k} = {value(v)}\n" for k, v in settings.items())


def write_configs(
    lab: resolve.ResolvedLab, *, server: dict[str, Any] | None = None, agents: dict[str, Any] | None = None
) -> None:
    """The files of ``specs``, for the bus and database the lab was brought up with (its
    broker, if any, runs already: its URL carries the credentials it chose). Owner-only: the
    server's file may hold the database password, the agents' the broker's. ``server``
    (ServerSettings fields) and ``agents`` (AgentConfig fields) override the lab's values (a
    failover test shortens agent_down_time and report_interval, say)."""
    chosen = services.read(lab)
    transport_url = services.broker_url(lab) if chosen.bus == "rabbitmq" else None
    for spec in specs(lab):
        spec.config.parent.mkdir(parents=True, exist_ok=True)
        spec.log.parent.mkdir(parents=True, exist_ok=True)
        spec.pidfile.parent.mkdir(parents=True, exist_ok=True)
        if spec.kind == SERVER:
            text = render_server_toml({**server_settings(lab, chosen, transport_url), **(server or {})})
        else:
            config = agent_config(lab, lab.host(spec.node), transport_url=transport_url)
            text = render(dataclasses.replace(config, **(agents or {})))
        spec.config.touch(mode=0o600)
        spec.config.write_text(text)
