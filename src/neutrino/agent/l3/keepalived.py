"""The keepalived configuration of an HA router, rendered as text from its desired state.

One VRRP instance per router on its ``ha-`` device (docs/neutron-behaviour.md, "L3 HA"): every
instance starts as BACKUP with ``nopreempt`` and the same priority, so the one already active
stays active and a restarted node does not take the router back. The instance owns all the
router's addresses: the primary VIP ``169.254.0.<vrid>/24`` on ``ha-`` (never changes, so a
reload never makes keepalived leave the MASTER state) and, as excluded VIPs, the qr- and qg-
addresses and the floating IPs, plus the default and extra routes as virtual routes. They exist
only on the active side; the NAT table is in place on both. On becoming MASTER keepalived sends
gratuitous ARPs for every address (``garp_master_repeat``) and again after
``garp_master_delay``. A notify script records each transition in a state file the agent reads.
"""

from __future__ import annotations

import ipaddress
import shlex
from dataclasses import dataclass

from neutrino.agent.l3 import nat
from neutrino.contract.desired import RouterState
from neutrino.dataplane.naming import HA_DEV, device

PRIORITY = 50
GARP_MASTER_DELAY = 60
GARP_MASTER_REPEAT = 5
PRIMARY_VIP_NET = "169.254.0.0/24"


@dataclass(frozen=True)
class VrrpSettings:
    """Neutron's ``ha_vrrp_*`` agent options. A fractional ``advert_int`` (below a second)
    needs VRRP version 3, which has no authentication: the instance is rendered so."""

    advert_int: float = 2

    @property
    def version3(self) -> bool:
        return self.advert_int != int(self.advert_int)
    auth_type: str = "PASS"
    auth_password: str = ""
    """Empty: no authentication block (Neutron's ``ha_vrrp_auth_password`` has no default)."""


def ha_device(router: RouterState) -> str:
    assert router.ha is not None
    return device(HA_DEV, router.ha.port_id)


def primary_vip(vr_id: int) -> str:
    """The VIP that marks the active side: 169.254.0.<vrid>/24 on the ha- device."""
    net = ipaddress.ip_network(PRIMARY_VIP_NET)
    return f"{net.network_address + vr_id}/{net.prefixlen}"


def virtual_addresses(router: RouterState) -> list[tuple[str, str]]:
    """(address with prefix, device) of every address keepalived owns besides the primary VIP."""
    return [(cidr, dev) for dev, cidrs in sorted(nat.addresses(router).items()) for cidr in cidrs]


def virtual_routes(router: RouterState) -> list[str]:
    """The router's IPv4 routes in keepalived's ``virtual_routes`` syntax."""
    qg = nat.qg_device(router)
    out = []
    for dst, nexthop in nat.routes(router):
        target = "0.0.0.0/0" if dst == "default" else dst
        if nexthop is None:
            out.append(f"{target} dev {qg}")
        elif dst == "default":
            out.append(f"{target} via {nexthop} dev {qg}")
        else:
            out.append(f"{target} via {nexthop}")
    return out


def render(router: RouterState, settings: VrrpSettings, notify_script: str) -> str:
    """keepalived.conf for one HA router."""
    assert router.ha is not None
    vr_id, ha_dev = router.ha.vr_id, ha_device(router)
    lines = [
        "global_defs {",
        "    router_id neutrino",
        "    script_user root",
        "}",
        f"vrrp_instance VR_{vr_id} {{",
        "    state BACKUP",
        f"    interface {ha_dev}",
        f"    virtual_router_id {vr_id}",
        f"    priority {PRIORITY}",
        f"    garp_master_delay {GARP_MASTER_DELAY}",
        f"    garp_master_repeat {GARP_MASTER_REPEAT}",
        "    nopreempt",
        *(["    version 3"] if settings.version3 else []),
        f"    advert_int {settings.advert_int:g}",
    ]
    if settings.auth_password and not settings.version3:
        lines += [
            "    authentication {",
            f"        auth_type {settings.auth_type}",
            f"        auth_pass {settings.auth_password[:8]}",
            "    }",
        ]
    lines += ["    virtual_ipaddress {", f"        {primary_vip(vr_id)} dev {ha_dev}", "    }"]
    excluded = virtual_addresses(router)
    if excluded:
        lines += ["    virtual_ipaddress_excluded {", *(f"        {a} dev {d}" for a, d in excluded), "    }"]
    routes = virtual_routes(router)
    if routes:
        lines += ["    virtual_routes {", *(f"        {r}" for r in routes), "    }"]
    lines += [f"    notify {shlex.quote(notify_script)}", "}", ""]
    return "\n".join(lines)


def notify_script(state_file: str) -> str:
    """The script keepalived runs on each transition (arguments: type, name, state, priority):
    it writes the new state (MASTER, BACKUP, FAULT, STOP) to the state file."""
    return f'#!/bin/sh\necho "$3" > {shlex.quote(state_file)}.tmp && mv {shlex.quote(state_file)}.tmp {shlex.quote(state_file)}\n'


def state_of(text: str | None) -> str:
    """active / standby from the state file's text (standby until keepalived says MASTER)."""
    return "active" if text is not None and text.strip().upper() == "MASTER" else "standby"
