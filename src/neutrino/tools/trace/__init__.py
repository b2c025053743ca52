"""``neutrino trace``: one packet's path explained hop by hop, from the API's intent and the live
dataplane together (docs/trace.md).

Pure parts (data in, data out; no root): ``world`` (the intent of every host, and what FROM/TO
name), ``secgroups`` (which rule lets the packet through), ``intent`` (the logical path),
``probes`` (what each host's agent is asked to run), ``ofproto`` (the parser of
``ofproto/trace``), ``report`` (intent and live side by side, and where they disagree),
``render`` (the text the CLI prints). The agent's side runs the probes (``agent/trace.py``); the
server's side gathers the intent and waits for the agents (``domain/trace.py``).
"""
