"""``neutrino topology --html FILE``: the topology page the server draws (``GET /topology``),
saved as one self-contained file (its SVGs, style and script inline; nothing fetched when it is
opened). Credentials as ``neutrino trace`` finds them (clouds.yaml, or ``--lab``)."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import click

from neutrino.cli.trace import TraceError, _credentials, _lab, error_line


def fetch(url: str, token: str, params: dict[str, str]) -> str:
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v})
    req = urllib.request.Request(f"{url}/topology" + (f"?{query}" if query else ""), headers={"X-Auth-Token": token})
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return str(resp.read().decode())
    except urllib.error.HTTPError as exc:
        raise TraceError(f"topology: {error_line(exc)}") from None


@click.command()
@click.option("--html", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="write the page to this file")  # fmt: skip
@click.option("--trace-from", help="draw a trace from this endpoint (as `neutrino trace` takes it)")
@click.option("--trace-to", help="... to this one")
@click.option("--proto", "protocol", type=click.Choice(["tcp", "udp", "icmp"]), help="the traced packet's protocol")
@click.option("--dport", type=click.IntRange(1, 65535), help="its destination port (tcp/udp)")
@click.option("--audit", is_flag=True, help="ask each live host's audit for drift (slower)")
@click.option("--lab", "lab_name", help="use this lab's admin instead of clouds.yaml")
def topology(out: Path, trace_from: str | None, trace_to: str | None, protocol: str | None, dport: int | None,
             audit: bool, lab_name: str | None) -> None:  # fmt: skip
    """Save the topology page (the logical and the physical view, health, a trace) to a file."""
    if bool(trace_from) != bool(trace_to):
        raise click.UsageError("--trace-from and --trace-to go together")
    url, token = _lab(lab_name) if lab_name is not None else _credentials()
    params = {"trace_from": trace_from or "", "trace_to": trace_to or "", "protocol": protocol or "",
              "port": str(dport) if dport else "", "audit": "1" if audit else ""}  # fmt: skip
    from neutrino.tools.topology.page import with_api_base

    out.write_text(with_api_base(fetch(url, token, params), url))
    click.echo(f"{out}: the topology of {url}")
