"""``neutrino agent``: report as an agent would, straight into the server's database.

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

import functools
from pathlib import Path
from collections.abc import Callable
from typing import Any

import click
import orjson

from neutrino import errors
from neutrino.cli.identity import Store, with_store
from neutrino.agent.kinds import AGENT_KINDS, L2_KINDS, configurations_for
from neutrino.domain.services.common import DomainConfig

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


def _domain_config(store: Store) -> DomainConfig:
    from neutrino.server import domain_config

    return domain_config(store.settings())


def reporting_errors(command: Callable[..., None]) -> Callable[..., None]:
    """Domain errors (bad input, unknown port) end the command with their message."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except errors.NeutronError as exc:
            raise click.ClickException(exc.message) from exc

    return wrapper


def _echo_json(value: Any) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


@click.group(invoke_without_command=True)
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
@click.pass_context
def agent(ctx: click.Context, run_host: str | None, roles: str | None, config_file: Path | None, server_url: str | None,
          transport_url: str | None, clouds_yaml: Path | None, bridge_mappings: str, tunnel_types: str, tunneling_ip: str | None,
          netns: str | None, ovs_dir: Path | None, prefix: str, state_dir: Path | None) -> None:  # fmt: skip
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
            netns=netns, ovs_dir=ovs_dir, prefix=prefix, state_dir=state_dir,
        )  # fmt: skip
        run_agent(config)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc


@agent.command("heartbeat")
@click.option("--host", required=True, help="the host the agent runs on")
@click.option("--type", "kind", type=click.Choice(list(AGENT_KINDS)), required=True, help="which agent")
@click.option("--bridge-mappings", default="", help="physnet:bridge[,...] (ovs, linuxbridge)")
@click.option("--tunnel-types", default="", help="vxlan[,geneve,gre] (ovs, linuxbridge; needs --tunneling-ip)")
@click.option("--tunneling-ip", default=None, help="this host's tunnel endpoint address")
@click.option("--availability-zone", default=None, help="[nova for dhcp and l3]")
@click.option("--configurations", "extra", default=None, help="JSON object merged into the reported configurations")
@click.option("--start", "start_flag", is_flag=True, help="report as a freshly (re)started agent")
@with_store
@reporting_errors
def heartbeat(
    store: Store,
    host: str,
    kind: str,
    bridge_mappings: str,
    tunnel_types: str,
    tunneling_ip: str | None,
    availability_zone: str | None,
    extra: str | None,
    start_flag: bool,
) -> None:
    """Report agent state for HOST once: registers the agent or keeps it alive."""
    from neutrino.domain.services import agents

    types = [t.strip().lower() for t in tunnel_types.split(",") if t.strip()]
    mappings = parse_mappings(bridge_mappings)
    if kind not in L2_KINDS and (mappings or types or tunneling_ip):
        raise click.UsageError("--bridge-mappings, --tunnel-types and --tunneling-ip are for ovs and linuxbridge agents")
    if types and not tunneling_ip:
        raise click.UsageError("--tunnel-types needs --tunneling-ip")
    try:
        overrides = orjson.loads(extra) if extra else {}
    except orjson.JSONDecodeError as exc:
        raise click.BadParameter(str(exc), param_hint="--configurations") from None
    if not isinstance(overrides, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--configurations")
    agent_type, binary, topic, default_zone = AGENT_KINDS[kind]
    conf = configurations_for(kind, bridge_mappings=mappings, tunnel_types=types, tunneling_ip=tunneling_ip, extra=overrides)
    cfg = _domain_config(store)

    def work(session: Any) -> tuple[str, dict[str, Any]]:
        result = agents.report_state(
            session, cfg, agent_type=agent_type, binary=binary, topic=topic, host=host, configurations=conf,
            start_flag=start_flag, availability_zone=availability_zone or default_zone,
        )  # fmt: skip
        return result, agents.render([agents.find_by_host(session, agent_type=agent_type, host=host)], cfg)[0]

    result, row = store.run(work)
    if store.as_json:
        _echo_json({"result": result, "agent": row})
        return
    click.echo(f"{row['agent_type']} on {host}: {result}")
    store.show_one(row)


def _port_report(store: Store, work: Callable[[Any], dict[str, Any]]) -> None:
    rows = store.run(work)
    if store.as_json:
        _echo_json(rows)
    else:
        for port_id, status in rows.items():
            click.echo(f"{port_id}: {status}")


@agent.command("device-up")
@click.argument("port_ids", nargs=-1, required=True, metavar="PORT_ID...")
@click.option("--host", required=True, help="the host whose agent wired the ports")
@with_store
@reporting_errors
def device_up(store: Store, port_ids: tuple[str, ...], host: str) -> None:
    """Report ports wired by the L2 agent on HOST (ACTIVE once nothing else blocks them)."""
    from neutrino.domain.services import port_status

    cfg = _domain_config(store)

    def work(session: Any) -> dict[str, Any]:
        return {
            p: port_status.device_up(session, cfg, port_id=p, host=host) or "ignored (unknown port or bound elsewhere)"
            for p in port_ids
        }

    _port_report(store, work)


@agent.command("device-down")
@click.argument("port_ids", nargs=-1, required=True, metavar="PORT_ID...")
@click.option("--host", required=True, help="the host whose agent unwired the ports")
@with_store
@reporting_errors
def device_down(store: Store, port_ids: tuple[str, ...], host: str) -> None:
    """Report ports unwired on HOST (they go DOWN)."""
    from neutrino.domain.services import port_status

    cfg = _domain_config(store)

    def work(session: Any) -> dict[str, Any]:
        return {
            p: "DOWN" if port_status.device_down(session, cfg, port_id=p, host=host) else "unknown port"
            for p in port_ids
        }

    _port_report(store, work)


@agent.command("dhcp-ready")
@click.argument("port_ids", nargs=-1, required=True, metavar="PORT_ID...")
@with_store
@reporting_errors
def dhcp_ready(store: Store, port_ids: tuple[str, ...]) -> None:
    """Report ports present in the DHCP agent's configuration."""
    from neutrino.domain.services import port_status

    def work(session: Any) -> dict[str, Any]:
        found = port_status.dhcp_ready(session, port_ids)
        return {p: found.get(p, "unknown port") for p in port_ids}

    _port_report(store, work)
