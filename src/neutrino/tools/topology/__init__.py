"""The topology page (``/topology``, ``neutrino topology --html FILE``): the logical and the
physical view of the cloud drawn from live state, with health and a trace on it (docs/topology.md).

Pure parts (data in, data out; no root): ``state`` (the snapshot the server reads: networks,
ports, routers, agents and what they report, drift), ``logical`` and ``physical`` (state ->
``graph.Graph``: nodes, edges, clusters, styles), ``highlight`` (a trace's answer -> the nodes on
its path), ``dot`` (a graph -> Graphviz's DOT language), ``page`` (the SVGs -> one HTML page).
Graphviz lays the graphs out: the one side effect, running ``dot -Tsvg``, is
``dataplane/graphviz.py``.
"""
