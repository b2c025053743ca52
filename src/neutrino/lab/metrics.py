"""``lab metrics [HOST|server]``: scrape a lab process's Prometheus endpoint as the lab's admin.

The server's ``/metrics`` is on the API's address; each agent's on its host's management
address, port ``nodes.AGENT_METRICS_PORT`` (docs/observability.md). Both want an admin token,
which the lab has (its clouds.yaml).
"""

from __future__ import annotations

import urllib.error
import urllib.request

from neutrino.lab import cloud, nodes, resolve


class MetricsError(Exception):
    """The target is unknown or did not answer: one line for the user."""


def url_of(lab: resolve.ResolvedLab, target: str, api_url: str) -> str:
    if target == nodes.SERVER:
        return api_url.rstrip("/") + "/metrics"
    agents = [spec.node for spec in nodes.specs(lab) if spec.kind != nodes.SERVER]
    if target not in agents:
        raise MetricsError(f"lab {lab.name} has no agent on {target!r} (choose server or one of: {', '.join(agents)})")
    return f"http://{lab.host(target).address}:{nodes.AGENT_METRICS_PORT}/metrics"


def scrape(lab: resolve.ResolvedLab, target: str) -> str:
    """The text exposition of ``target`` (a host's agents, or ``server``)."""
    api_url, token = cloud.admin_token(lab)
    url = url_of(lab, target, api_url)
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"X-Auth-Token": token}), timeout=10) as resp:
            return resp.read().decode()
    except urllib.error.HTTPError as exc:
        raise MetricsError(f"{url}: HTTP {exc.code}") from None
    except OSError as exc:
        raise MetricsError(f"{url}: {exc}") from None
