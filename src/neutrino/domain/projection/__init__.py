"""The server-to-agent contract: everything one host's agents must make real.

``project_host(session, host)`` reads the database and returns a ``DesiredHostState``: typed,
immutable, versioned data. Agents never see rows or the API; they converge the host to this.
"""

from neutrino.domain.projection.build import project_host
from neutrino.domain.projection.types import (
    FORMAT_VERSION,
    BoundPort,
    DesiredHostState,
    DhcpNetwork,
    DhcpPort,
    DhcpSubnet,
    FixedIP,
    FloatingIPState,
    RouterGateway,
    RouterInterface,
    RouterState,
    SecurityRule,
    Segment,
    TunnelPeer,
)

__all__ = [
    "FORMAT_VERSION",
    "BoundPort",
    "DesiredHostState",
    "DhcpNetwork",
    "DhcpPort",
    "DhcpSubnet",
    "FixedIP",
    "FloatingIPState",
    "RouterGateway",
    "RouterInterface",
    "RouterState",
    "SecurityRule",
    "Segment",
    "TunnelPeer",
    "project_host",
]
