"""``neutrino agent heartbeat|device-up|device-down|dhcp-ready``: report as an agent would,
straight into the server's database.

For tests and demos without real agents: ``heartbeat`` writes one state report (the same
``report_state`` the server runs for real agents), so ports can bind to the host, DHCP
networks and routers get scheduled to it, and ``openstack network agent list`` shows it.
``device-up``, ``device-down`` and ``dhcp-ready`` report a port wired or unwired, which moves
its status as the L2 and DHCP agents do. Run ``heartbeat`` again within ``agent_down_time``
(75 s) to keep the agent alive. The store is opened like ``neutrino identity``
(``--state-dir``, ``--config``, ``--database-url``, NEUTRINO_* variables); no server is needed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
import orjson

from neutrino import errors
from neutrino.agent.kinds import AGENT_KINDS, L2_KINDS, configurations_for
from neutrino.cli.agent import parse_mappings
from neutrino.cli.identity import Store, with_store
from neutrino.domain.config import DomainConfig


def _domain_config(store: Store) -> DomainConfig:
    """The server's settings; refuses a state directory without a database (a mistyped
    --state-dir would otherwise create a new, empty one and report into it)."""
    from neutrino.server import assemble_domain

    settings = store.settings()
    db_file = settings.state_dir / "neutrino.db"
    if settings.database_url is None and not db_file.exists():
        raise click.ClickException(
            f"no neutrino database at {db_file}: give the --state-dir (or --database-url) of a server that has run"
        )
    return assemble_domain(settings)[0]


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


@click.command("heartbeat")
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


UNKNOWN_PORT = "unknown port"
WAITS_FOR_DHCP = "DOWN (waits for dhcp-ready: a DHCP agent serves its network)"


def _port_report(store: Store, work: Callable[[Any], dict[str, Any]]) -> None:
    """Print each port's status; exit 1 if a report was ignored (unknown port, other host)."""
    rows = store.run(work)
    if store.as_json:
        _echo_json(rows)
    else:
        for port_id, status in rows.items():
            click.echo(f"{port_id}: {status}")
    ignored = [p for p, status in rows.items() if str(status).startswith(("ignored", UNKNOWN_PORT))]
    if ignored:
        raise click.ClickException(f"{len(ignored)} of {len(rows)} report(s) ignored: {', '.join(ignored)}")


@click.command("device-up")
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
            p: _explain(port_status.device_up(session, cfg, port_id=p, host=host)) for p in port_ids
        }

    _port_report(store, work)


@click.command("device-down")
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
            p: "DOWN" if port_status.device_down(session, cfg, port_id=p, host=host) else UNKNOWN_PORT
            for p in port_ids
        }

    _port_report(store, work)


def _explain(status: str | None) -> str:
    if status is None:
        return "ignored (unknown port, or not bound to this host)"
    return WAITS_FOR_DHCP if status == "DOWN" else status


@click.command("dhcp-ready")
@click.argument("port_ids", nargs=-1, required=True, metavar="PORT_ID...")
@click.option("--host", help="the DHCP agent's host (accepted like device-up's; readiness is per port)")
@with_store
@reporting_errors
def dhcp_ready(store: Store, port_ids: tuple[str, ...], host: str | None) -> None:
    """Report ports present in the DHCP agent's configuration."""
    from neutrino.domain.services import port_status

    _domain_config(store)

    def work(session: Any) -> dict[str, Any]:
        found = port_status.dhcp_ready(session, port_ids)
        return {p: found.get(p, UNKNOWN_PORT) for p in port_ids}

    _port_report(store, work)
