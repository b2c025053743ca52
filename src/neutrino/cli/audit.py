"""``neutrino audit [--host H] [--repair] [--json]``: each host's dataplane against the desired
state, through ``GET /v2.0/audit`` (``POST`` to repair). Credentials as ``neutrino trace``
finds them (``cli/trace.py``). Exit status 0 when no drift remains, 2 when some does, 1 on an
error (one line)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import click

from neutrino.cli.trace import TraceError, _credentials, _lab, error_line


class AuditError(TraceError):
    pass


def fetch(url: str, token: str, host: str | None, repair: bool) -> dict[str, Any]:
    query = urllib.parse.urlencode({"host": host} if host else {})
    req = urllib.request.Request(f"{url}/v2.0/audit?{query}", headers={"X-Auth-Token": token},
                                 method="POST" if repair else "GET")  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return json.loads(resp.read())["audit"]  # type: ignore[no-any-return]
    except urllib.error.HTTPError as exc:
        raise AuditError(f"audit: {error_line(exc)}") from None


def text(doc: dict[str, Any]) -> str:
    lines = []
    for host, report in sorted(doc["hosts"].items()):
        if "error" in report:
            lines.append(f"{host}: not audited: {report['error']}")
            continue
        found, repaired = report.get("drift", []), {json.dumps(d, sort_keys=True) for d in report.get("repaired", [])}
        took = f"audit {report.get('audit_seconds')} s" + (f", repair {report['repair_seconds']} s" if report.get("repair_seconds") is not None else "")
        lines.append(f"{host}: {len(found)} drift ({took})" if found else f"{host}: no drift ({took})")
        for d in found:
            mark = "repaired" if json.dumps(d, sort_keys=True) in repaired else ("NOT repaired" if doc["repair"] else "")
            lines.append(f"  {d['kind']:<12} {d['object']}: expected {d['expected']}, found {d['actual']}"
                         + (f"  [{mark}]" if mark else ""))  # fmt: skip
    return "\n".join(lines)


@click.command()
@click.option("--host", help="audit this host only (default: every host with an agent)")
@click.option("--repair", is_flag=True, help="have the host's agents repair what drifted (only what neutrino owns)")
@click.option("--lab", "lab_name", help="use this lab's admin instead of clouds.yaml")
@click.option("--json", "as_json", is_flag=True, help="print the whole structure")
def audit(host: str | None, repair: bool, lab_name: str | None, as_json: bool) -> None:
    """Compare each host's dataplane with the desired state, object by object (OVS ports, tags,
    flows, tunnels, namespaces, veths, nftables, dnsmasq, routes, NAT, port status)."""
    url, token = _lab(lab_name) if lab_name is not None else _credentials()
    doc = fetch(url, token, host, repair)
    click.echo(json.dumps(doc, indent=2) if as_json else text(doc))
    if doc.get("drift_count"):
        raise SystemExit(2)
