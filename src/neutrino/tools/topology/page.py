"""The topology page: both views' SVGs inlined in one HTML document with its style and a few
lines of script, nothing fetched from elsewhere, so the same page works served by the server
and saved to a file (``neutrino topology --html FILE``) and opened with no network.

The trace form asks the server for the page again with ``trace_from``/``trace_to``, sending the
token the page was opened with (kept in the tab's sessionStorage, never in the page or a URL).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from neutrino.tools.topology.graph import ALIVE, DEAD, HIGHLIGHT, STATUS_COLOURS
from neutrino.tools.topology.state import TopologyState

STYLE = """
body { font-family: sans-serif; margin: 1em 2em; color: #222; }
h1 { font-size: 1.4em; margin-bottom: .2em; } h2 { font-size: 1.15em; margin-top: 1.2em; }
.summary, .legend { font-size: .9em; color: #444; }
.legend span.sw { display: inline-block; width: 1em; height: 1em; vertical-align: middle;
  border: 1px solid #888; margin: 0 .3em 0 1em; }
.view { overflow: auto; border: 1px solid #ddd; padding: .5em; background: #fff; }
.view svg { max-width: 100%; height: auto; }
form { margin: .6em 0; font-size: .9em; } form input { width: 11em; }
pre.trace { background: #f6f6f6; padding: .6em; font-size: .8em; overflow: auto; max-height: 24em; }
.verdict-delivered { color: #2e7d32; font-weight: bold; } .verdict-dropped { color: #c62828; font-weight: bold; }
.error { color: #c62828; }
"""

SCRIPT = """
(function () {
  var form = document.getElementById('trace-form');
  var tokenField = document.getElementById('token');
  var saved = sessionStorage.getItem('neutrino-token');
  if (saved) { tokenField.value = saved; }
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var token = tokenField.value.trim();
    if (token) { sessionStorage.setItem('neutrino-token', token); }
    var params = new URLSearchParams();
    ['trace_from', 'trace_to', 'protocol', 'port'].forEach(function (k) {
      var v = form.elements[k].value.trim(); if (v) { params.set(k, v); }
    });
    var base = document.body.getAttribute('data-api') || '';
    fetch(base + '/topology?' + params.toString(), {headers: {'X-Auth-Token': token}})
      .then(function (r) { return r.text().then(function (t) { return [r.status, t]; }); })
      .then(function (a) {
        if (a[0] === 200) { document.open(); document.write(a[1]); document.close(); return; }
        var m = a[1]; try { m = JSON.parse(a[1]).NeutronError.message; } catch (e) {}
        document.getElementById('form-error').textContent = a[0] + ': ' + m;
      })
      .catch(function (e) { document.getElementById('form-error').textContent = String(e); });
  });
})();
"""


@dataclass
class Traced:
    """The trace drawn on the page: what was asked, and the answer (or why there is none)."""

    source: str
    destination: str
    doc: dict[str, Any] | None = None
    text: str = ""
    error: str = ""
    protocol: str = "icmp"
    port: str = ""


def _summary(state: TopologyState) -> str:
    hosts = state.hosts()
    alive = sum(1 for a in state.agents if a.alive)
    parts = [f"{len(state.networks)} networks", f"{len(state.subnets)} subnets", f"{len(state.routers)} routers",
             f"{len(state.ports)} ports", f"{len(state.instances())} instances",
             f"{len(state.floating_ips)} floating IPs", f"{len(hosts)} hosts",
             f"{alive} of {len(state.agents)} agents alive (down after {state.agent_down_time} s)"]  # fmt: skip
    if state.drift_error:
        parts.append(state.drift_error)
    elif state.drift is None:
        parts.append("no audit data")
    else:
        parts.append(f"drift: {len(state.drift)} finding(s)")
    return ", ".join(parts)


def _legend() -> str:
    items = [(colour, f"port {status}") for status, colour in STATUS_COLOURS.items()]
    items += [(ALIVE, "agents alive (host border)"), (DEAD, "an agent down"), (HIGHLIGHT, "the traced path")]
    swatches = "".join(f'<span class="sw" style="background:{c}"></span>{html.escape(t)}' for c, t in items)
    return f'<p class="legend">{swatches}; dashed: administratively down.</p>'


def _form(traced: Traced | None) -> str:
    src = html.escape(traced.source if traced else "")
    dst = html.escape(traced.destination if traced else "")
    chosen = traced.protocol if traced else "icmp"
    options = "".join(f"<option{' selected' if p == chosen else ''}>{p}</option>" for p in ("icmp", "tcp", "udp"))
    port = html.escape(traced.port if traced else "")
    return (
        '<form id="trace-form"><label>trace from <input name="trace_from" value="' + src + '"></label> '
        '<label>to <input name="trace_to" value="' + dst + '"></label> '
        '<label>protocol <select name="protocol">' + options + '</select></label> '
        '<label>port <input name="port" style="width:4em" value="' + port + '"></label> '
        '<label>admin token <input id="token" type="password" autocomplete="off"></label> '
        '<button type="submit">trace</button> <span id="form-error" class="error"></span></form>'
    )


def _trace(traced: Traced | None) -> str:
    if traced is None:
        return ""
    head = f"<h2>Trace {html.escape(traced.source)} &rarr; {html.escape(traced.destination)}</h2>"
    if traced.error:
        return head + f'<p class="error" id="trace-error">{html.escape(traced.error)}</p>'
    doc = traced.doc or {}
    verdict = str(doc.get("verdict", ""))
    where = f" at {doc['dropped_at']}: {doc.get('reason')}" if doc.get("dropped_at") else ""
    return (head + f'<p id="trace-verdict" class="verdict-{html.escape(verdict)}">{html.escape(verdict)}'
            f"{html.escape(where)}</p>" + f'<pre class="trace">{html.escape(traced.text)}</pre>')  # fmt: skip


def render(state: TopologyState, logical_svg: str, physical_svg: str, *, traced: Traced | None = None,
           api_base: str = "", generated_at: str = "") -> str:  # fmt: skip
    """The whole page. The SVGs are Graphviz's (its text is escaped by Graphviz)."""
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>neutrino topology</title>',
        f"<style>{STYLE}</style></head>",
        f'<body data-api="{html.escape(api_base)}">',
        "<h1>neutrino topology</h1>",
        f'<p class="summary" id="summary">{html.escape(_summary(state))}'
        + (f"; drawn {html.escape(generated_at)}" if generated_at else "") + "</p>",
        _legend(),
        _form(traced),
        _trace(traced),
        '<h2>Logical view</h2><div class="view" id="logical">', logical_svg, "</div>",
        '<h2>Physical view</h2><div class="view" id="physical">', physical_svg, "</div>",
        f"<script>{SCRIPT}</script>",
        "</body></html>",
    ])  # fmt: skip


def with_api_base(text: str, url: str) -> str:
    """The page saved to a file: its trace form asks ``url`` (the server) instead of its own origin."""
    return text.replace('<body data-api="">', f'<body data-api="{html.escape(url)}">', 1)
