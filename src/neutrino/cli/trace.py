"""``neutrino trace FROM TO``: one packet's path hop by hop, through ``GET /v2.0/trace``.

The credentials are the openstack CLI's: the cloud ``OS_CLOUD`` (default ``neutrino``) of the
clouds.yaml that ``OS_CLIENT_CONFIG_FILE`` names, or of ``./clouds.yaml``,
``~/.config/openstack/clouds.yaml`` or ``/etc/openstack/clouds.yaml``; ``--lab`` takes a lab's
admin instead, and so does a machine with no clouds.yaml and one lab up. The API is the auth URL without its ``/identity`` path (the neutrino server serves
both). An API error is one line (``main.py`` ends the command with it, exit status 1).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import click

PLACES = (Path("clouds.yaml"), Path.home() / ".config/openstack/clouds.yaml", Path("/etc/openstack/clouds.yaml"))


class TraceError(RuntimeError):
    pass


def _lab(name: str | None) -> tuple[str, str]:
    from neutrino.lab import cloud, state

    return cloud.admin_token(state.load(state.pick(name)))


def _credentials() -> tuple[str, str]:
    """(API URL, token) from clouds.yaml, as the openstack CLI finds it; else the only lab's."""
    import yaml

    from neutrino.bus.http import password_token

    named = os.environ.get("OS_CLIENT_CONFIG_FILE")
    places = [Path(named)] if named else [p for p in PLACES if p.exists()]
    if not named and not places:
        try:
            return _lab(None)
        except LookupError:
            raise TraceError("no clouds.yaml (set OS_CLIENT_CONFIG_FILE and OS_CLOUD) and no lab up (or give --lab)") from None
    if not places[0].exists():
        raise TraceError(f"OS_CLIENT_CONFIG_FILE names {named}, which does not exist")
    cloud = os.environ.get("OS_CLOUD", "neutrino")
    clouds = (yaml.safe_load(places[0].read_text()) or {}).get("clouds", {})
    if cloud not in clouds:
        raise TraceError(f"{places[0]} has no cloud {cloud!r} (set OS_CLOUD)")
    auth = clouds[cloud]["auth"]
    return auth["auth_url"].split("/identity")[0].rstrip("/"), password_token(auth)


def fetch(url: str, token: str, params: dict[str, Any]) -> dict[str, Any]:
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    req = urllib.request.Request(f"{url}/v2.0/trace?{query}", headers={"X-Auth-Token": token})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read())["trace"]  # type: ignore[no-any-return]
    except urllib.error.HTTPError as exc:
        raise TraceError(f"trace: {error_line(exc)}") from None


def error_line(exc: urllib.error.HTTPError) -> str:
    """The one line to show for an API error: Neutron's message, else the body's first line."""
    body = exc.read().decode(errors="replace")
    try:
        return str(json.loads(body)["NeutronError"]["message"])
    except (ValueError, KeyError, TypeError):
        return body.strip().splitlines()[0] if body.strip() else str(exc.reason)


@click.command()
@click.argument("source", metavar="FROM")
@click.argument("destination", metavar="TO")
@click.option("--proto", "protocol", type=click.Choice(["tcp", "udp", "icmp"]), default="icmp", show_default=True)
@click.option("--dport", type=click.IntRange(1, 65535), help="destination port (tcp/udp; default 22 / 53)")
@click.option("--source-ip", help="send from this address instead of the port's own (an anti-spoofing check)")
@click.option("--lab", "lab_name", help="use this lab's admin instead of clouds.yaml")
@click.option("--json", "as_json", is_flag=True, help="print the whole structure")
def trace(source: str, destination: str, protocol: str, dport: int | None, source_ip: str | None, lab_name: str | None,
          as_json: bool) -> None:  # fmt: skip
    """Explain one packet's path from FROM to TO hop by hop: devices, bridges and the flows that
    matched, VIDs and VNIs, routes and NAT, security groups, and a verdict.

    FROM and TO: an instance or port name, a port id, a fixed IP, a floating IP (TO), or
    `outside`."""
    if dport is not None and protocol == "icmp":
        raise click.UsageError("--dport is for --proto tcp or udp")
    if lab_name is not None:
        url, token = _lab(lab_name)
    else:
        url, token = _credentials()
    doc = fetch(url, token, {"from": source, "to": destination, "protocol": protocol, "port": dport,
                             "source_ip": source_ip})  # fmt: skip
    if as_json:
        click.echo(json.dumps(doc, indent=2))
        return
    from neutrino.tools.trace import render

    click.echo(render.text(doc))
