"""``neutrino agent --host H``: run a host's agents; its subcommands act as an agent by hand.

Until the agents and their bus exist, this is how a host makes itself known: ``heartbeat``
writes one state report (the same ``report_state`` the server will run for real agents), so
ports can bind to the host, DHCP networks and routers get scheduled to it, and
``openstack network agent list`` shows it. ``device-up``, ``device-down`` and ``dhcp-ready``
report a port wired or unwired, which moves its status as the L2 and DHCP agents will.
Run it again within ``agent_down_time`` (75 s) to keep the agent alive.

It opens the store like ``neutrino identity`` (``--state-dir``, ``--config``,
``--database-url``, NEUTRINO_* variables) and needs no running server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from neutrino.cli.lazy import LazyGroup

# writing agent reports straight into the database needs the server's stack: loaded only then
DEBUG_COMMANDS = {
    name: f"neutrino.cli.agent_debug:{name.replace('-', '_')}"
    for name in ("heartbeat", "device-up", "device-down", "dhcp-ready")
}


def parse_mappings(text: str) -> dict[str, str]:
    """``physnet1:br-eth1,physnet2:br-eth2`` → {physnet: bridge}."""
    out: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        physnet, sep, bridge = item.partition(":")
        if not sep or not physnet or not bridge:
            raise click.BadParameter(f"'{item}' is not physnet:bridge", param_hint="--bridge-mappings")
        if physnet in out:
            raise click.BadParameter(f"physnet '{physnet}' mapped twice", param_hint="--bridge-mappings")
        out[physnet] = bridge
    return out


@click.group(cls=LazyGroup, lazy=DEBUG_COMMANDS, invoke_without_command=True)
@click.option("--host", "run_host", help="run the agents of this host (the name the server binds ports to)")
@click.option("--roles", default=None, help="comma-separated: l2, dhcp, l3  [l2]")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TOML file, section [agent]: host, roles, server_url, clouds_yaml, bridge_mappings, ... (docs/deployment.md)")  # fmt: skip
@click.option("--server-url", help="the neutrino server (default: from clouds.yaml's auth_url)")
@click.option("--transport-url", help="talk to the server over RabbitMQ (amqp://user:password@host:5672/vhost) instead of HTTP")
@click.option("--clouds-yaml", type=click.Path(path_type=Path), help="credentials (cloud 'neutrino')  [/var/lib/neutrino/clouds.yaml]")
@click.option("--bridge-mappings", default="", help="physnet:bridge,...")
@click.option("--tunnel-types", default="", help="e.g. vxlan")
@click.option("--tunneling-ip", help="this host's tunnel endpoint address")
@click.option("--netns", help="the namespace that is this host (default: the root namespace)")
@click.option("--ovs-dir", type=click.Path(path_type=Path), help="a private OVS run directory (default: the system's)")
@click.option("--prefix", default="", help="prefix of the namespaces this host creates (qdhcp-, qrouter-)")
@click.option("--state-dir", type=click.Path(path_type=Path), default=None, help="[/var/lib/neutrino/agent]")
@click.option("--availability-zone", default=None, help="the zone the DHCP and L3 agents report  [nova]")
@click.pass_context
def agent(ctx: click.Context, run_host: str | None, roles: str | None, config_file: Path | None, server_url: str | None,
          transport_url: str | None, clouds_yaml: Path | None, bridge_mappings: str, tunnel_types: str, tunneling_ip: str | None,
          netns: str | None, ovs_dir: Path | None, prefix: str, state_dir: Path | None,
          availability_zone: str | None) -> None:  # fmt: skip
    """Run the agents of a host (``neutrino agent --host H --roles l2,dhcp,l3`` or
    ``neutrino agent --config agent.toml``) against a server over HTTP or RabbitMQ
    (``--transport-url``); or, with a subcommand,
    act as an agent by hand (heartbeat, device-up, ...)."""
    if ctx.invoked_subcommand is not None:
        return
    if not run_host and config_file is None:
        raise click.UsageError("give --host or --config to run agents, or a subcommand (see --help)")
    from neutrino.agent.config import load_agent_config
    from neutrino.agent.standalone import run_agent

    try:
        config = load_agent_config(
            config_file, host=run_host, roles=roles, server_url=server_url, transport_url=transport_url,
            clouds_yaml=clouds_yaml,
            bridge_mappings=parse_mappings(bridge_mappings), tunnel_types=tunnel_types, tunneling_ip=tunneling_ip,
            netns=netns, ovs_dir=ovs_dir, prefix=prefix, state_dir=state_dir, availability_zone=availability_zone,
        )  # fmt: skip
        run_agent(config)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc


