"""A graph description Graphviz can lay out: nodes, edges and clusters, each with its style
attributes resolved (shape, colours, labels). Builders (``logical``, ``physical``) make one from
a ``TopologyState``; ``dot`` writes it out. Tests read it directly: no layout is needed to know
what is on the page and how it is coloured.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# kind -> Graphviz attributes; the health colours below are laid over them
STYLES: dict[str, dict[str, str]] = {
    "network": {"shape": "box", "style": "rounded,filled", "fillcolor": "#dbe9f6", "penwidth": "1.5"},
    "external": {"shape": "box", "style": "rounded,filled", "fillcolor": "#fde7c8", "penwidth": "1.5"},
    "subnet": {"shape": "note", "style": "filled", "fillcolor": "#f4f8fc"},
    "port": {"shape": "ellipse", "style": "filled", "fontsize": "9", "height": "0.3"},
    "instance": {"shape": "box3d", "style": "filled", "fillcolor": "#eef6e8"},
    "router": {"shape": "octagon", "style": "filled", "fillcolor": "#e7e1f5"},
    "floatingip": {"shape": "cds", "style": "filled", "fillcolor": "#fff4c2", "fontsize": "10"},
    "dhcp": {"shape": "component", "style": "filled", "fillcolor": "#f0f0f0", "fontsize": "9"},
    "bridge": {"shape": "box", "style": "filled", "fillcolor": "#dbe9f6", "fontname": "monospace"},
    "namespace": {"shape": "folder", "style": "filled", "fillcolor": "#e7e1f5", "fontsize": "10"},
    "vif": {"shape": "box3d", "style": "filled", "fillcolor": "#eef6e8", "fontsize": "10"},
    "wire": {"shape": "cylinder", "style": "filled", "fillcolor": "#fde7c8"},
    "drift": {"shape": "note", "style": "filled", "fillcolor": "#f8d0d0", "fontsize": "9"},
}

# port / agent status -> fill colour: the page's legend says the same
STATUS_COLOURS = {
    "ACTIVE": "#b7e4a8",
    "BUILD": "#fbe39b",
    "DOWN": "#d9d9d9",
    "ERROR": "#f4a6a6",
}
ALIVE, DEAD = "#2e7d32", "#c62828"
HIGHLIGHT = "#ff6d00"


@dataclass
class Node:
    id: str
    label: str
    kind: str
    attrs: dict[str, str] = field(default_factory=dict)
    tooltip: str = ""


@dataclass
class Edge:
    a: str
    b: str
    label: str = ""
    attrs: dict[str, str] = field(default_factory=dict)
    key: str = ""
    """The port this edge is (a VIF's, a router's or a DHCP port): between two highlighted nodes
    it is highlighted only when the path goes through that port."""


@dataclass
class Cluster:
    id: str
    label: str
    members: list[str] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class Graph:
    name: str
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)

    def add(self, id: str, label: str, kind: str, tooltip: str = "", **attrs: str) -> Node:
        """A node styled as its ``kind``, ``attrs`` laid over (the first add of an id wins)."""
        if id not in self.nodes:
            self.nodes[id] = Node(id, label, kind, {**STYLES.get(kind, {}), **attrs}, tooltip)
        return self.nodes[id]

    def link(self, a: str, b: str, label: str = "", key: str = "", **attrs: str) -> Edge:
        edge = Edge(a, b, label, dict(attrs), key)
        self.edges.append(edge)
        return edge

    def cluster(self, id: str, label: str, **attrs: str) -> Cluster:
        c = Cluster(id, label, [], dict(attrs))
        self.clusters.append(c)
        return c

    def highlight(self, ids: set[str], keys: set[str] | None = None) -> None:
        """Draw the nodes ``ids`` and the edges between two of them as the path of a trace (an
        edge with a ``key`` only when ``keys`` holds it)."""
        for i in ids & set(self.nodes):
            node = self.nodes[i]
            node.attrs.update(color=HIGHLIGHT, penwidth="4", **{"class": "hl"})
        for e in self.edges:
            if e.a in ids and e.b in ids and (not e.key or keys is None or e.key in keys):
                e.attrs.update(color=HIGHLIGHT, penwidth="4", **{"class": "hl"})

    def highlighted(self) -> set[str]:
        return {i for i, n in self.nodes.items() if n.attrs.get("class") == "hl"}


def status_fill(status: str) -> str:
    return STATUS_COLOURS.get(status.upper(), STATUS_COLOURS["DOWN"])


def short(ident: str) -> str:
    return ident[:8]
