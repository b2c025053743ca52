"""State (and a trace's answer) -> the page, the drawing program passed in: the server and the
tests give ``dataplane.graphviz.svg``; a unit test can give a stub and read the DOT text."""

from __future__ import annotations

from collections.abc import Callable

from neutrino.tools.topology import dot, highlight, logical, page, physical
from neutrino.tools.topology.graph import Graph
from neutrino.tools.topology.state import TopologyState


def graphs(state: TopologyState, traced: page.Traced | None = None) -> tuple[Graph, Graph]:
    """The logical and the physical graph, the trace's path highlighted on both."""
    views = logical.build(state), physical.build(state)
    if traced is not None and traced.doc is not None:
        views[0].highlight(highlight.logical_nodes(state, traced.doc))
        views[1].highlight(highlight.physical_nodes(state, traced.doc), highlight.path_ports(state, traced.doc))
    return views


def html(state: TopologyState, svg: Callable[[str], str], *, traced: page.Traced | None = None, api_base: str = "",
         generated_at: str = "") -> str:  # fmt: skip
    view_l, view_p = graphs(state, traced)
    return page.render(state, svg(dot.render(view_l)), svg(dot.render(view_p)), traced=traced, api_base=api_base,
                       generated_at=generated_at)  # fmt: skip
