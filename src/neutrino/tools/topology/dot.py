"""A ``graph.Graph`` in Graphviz's DOT language. Every id and label is quoted and escaped, so a
name a user gave a network cannot change the graph's structure; the node's id also becomes the
SVG element's ``id`` (what the page's tests look for)."""

from __future__ import annotations

from neutrino.tools.topology.graph import Cluster, Graph, Node


def quote(text: str) -> str:
    """A DOT double-quoted string: backslash and quote escaped, a newline as ``\\n``."""
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n")
    return f'"{body}"'


def _attrs(attrs: dict[str, str]) -> str:
    if not attrs:
        return ""
    return " [" + ", ".join(f"{k}={quote(str(v))}" for k, v in sorted(attrs.items())) + "]"


def _node(n: Node, indent: str) -> str:
    attrs = {**n.attrs, "label": n.label, "id": n.id, "tooltip": n.tooltip or n.label}
    return f"{indent}{quote(n.id)}{_attrs(attrs)};"


def _cluster(c: Cluster, nodes: dict[str, Node]) -> list[str]:
    out = [f"  subgraph {quote(c.id)} {{", f"    label={quote(c.label)};", f"    id={quote(c.id)};"]
    out += [f"    {k}={quote(v)};" for k, v in sorted(c.attrs.items())]
    out += [_node(nodes[m], "    ") for m in c.members if m in nodes]
    out.append("  }")
    return out


def render(g: Graph) -> str:
    lines = [f"digraph {quote(g.name)} {{"]
    lines += [f"  {k}={quote(v)};" for k, v in sorted(g.attrs.items())]
    lines.append('  node [fontname="sans-serif", fontsize="11"];')
    lines.append('  edge [dir="none", fontname="sans-serif", fontsize="9"];')
    in_cluster = {m for c in g.clusters for m in c.members}
    for c in g.clusters:
        lines += _cluster(c, g.nodes)
    lines += [_node(n, "  ") for i, n in g.nodes.items() if i not in in_cluster]
    for e in g.edges:
        if e.a in g.nodes and e.b in g.nodes:
            lines.append(f"  {quote(e.a)} -> {quote(e.b)}{_attrs({**e.attrs, **({'label': e.label} if e.label else {})})};")
    lines.append("}")
    return "\n".join(lines) + "\n"
