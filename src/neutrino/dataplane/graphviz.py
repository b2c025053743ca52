"""The adapter to Graphviz: DOT text in, SVG out, by running ``dot -Tsvg`` (Debian's
``graphviz``). Graphviz lays the topology page's graphs out (docs/topology.md), so nothing
there is placed by hand. The XML prologue and DOCTYPE are cut so the SVG can be inlined in HTML."""

from __future__ import annotations

from neutrino.dataplane import exec as programs

TIMEOUT = 20.0


def svg(dot_text: str) -> str:
    """The SVG Graphviz draws for ``dot_text``; ``ProgramMissing`` when Graphviz is not installed."""
    out = programs.run(["dot", "-Tsvg"], input=dot_text, timeout=TIMEOUT).stdout
    start = out.find("<svg")
    return out[start:] if start >= 0 else out
