"""Pure rules of HA routers: names, VRRP ids and the state an agent list shows.

Kept apart from the service so they are tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable

HA_NETWORK_NAME = "HA network tenant %s"
HA_SUBNET_NAME = "HA subnet tenant %s"
HA_PORT_NAME = "HA port tenant %s"
HA_INTERFACE = "network:router_ha_interface"
ACTIVE = "active"
STANDBY = "standby"
UNKNOWN = "unknown"
STATES = (ACTIVE, STANDBY)
VR_IDS = range(1, 255)
"""VRRP virtual router ids keepalived accepts (docs/neutron-behaviour.md, "L3 HA")."""

CHANGE_WHILE_UP = (
    "Cannot change HA attribute of active routers. Please set router admin_state_up to False prior to upgrade"
)


def choose_vr_id(allocated: Iterable[int | None]) -> int | None:
    """The lowest VRRP id not yet used on the HA network (None when all 254 are taken).

    Neutron picks a random free one; the lowest is as good for uniqueness and keeps tests and
    captures reproducible.
    """
    used = {v for v in allocated if v}
    return next((v for v in VR_IDS if v not in used), None)


def normalise_state(state: str) -> str:
    """What an agent reports (keepalived says MASTER/BACKUP/FAULT) as the API's active/standby."""
    value = state.strip().lower()
    return ACTIVE if value in (ACTIVE, "master", "primary") else STANDBY
