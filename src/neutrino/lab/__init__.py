"""The lab: a whole cloud (controller, network node, computes) emulated on one machine.

Describe, then realize: ``topology`` is the lab file as data (no side effects), ``resolve``
turns it into every concrete name and address (no root: powers ``lab validate`` and ``lab
plan``), ``realize`` builds it with the dataplane adapters, ``teardown`` removes exactly what
a lab owns, ``instances`` plugs emulated VMs, ``basics`` is the seed's first example.
"""
