"""Scheduling: which agent serves which network (DHCP) and router (L3), and failover.

``choice`` holds the pure decisions; ``dhcp``, ``l3`` and ``failover`` read and write the
bindings; ``periodic`` is the server's background check. The names other parts call are
re-exported here.
"""

from neutrino.domain.scheduling.dhcp import schedule_network, schedule_unhosted_networks
from neutrino.domain.scheduling.failover import Moved, reschedule_dead_agents
from neutrino.domain.scheduling.l3 import schedule_router, schedule_unhosted_routers

__all__ = [
    "Moved",
    "reschedule_dead_agents",
    "schedule_network",
    "schedule_router",
    "schedule_unhosted_networks",
    "schedule_unhosted_routers",
]
