"""Address scopes in a router's namespace, as data: which forwarding to drop, where not to SNAT.

Neutron's L3 agent marks each packet with the address scope of the interface it enters and
drops it when it leaves through an interface of another scope; return traffic of an accepted
connection and floating-IP traffic pass, and with SNAT on, IPv4 may always leave through the
gateway (it is translated there). Traffic from an interface in the same scope as the external
network leaves through the gateway untranslated. (docs/neutron-behaviour.md, "Subnet pools and
address scopes".)

neutrino writes the same decisions with interface names instead of marks: a ``table inet
neutrino-scope`` whose forward chain accepts established and DNATed connections and then, per
outgoing device, drops what entered through a device of another scope; and a rule in the NAT
table (``agent/l3/nat.py``) that accepts, before the gateway SNAT, what comes from devices of
the gateway's scope. Interfaces without a scope form a scope of their own, as in Neutron; a
router whose interfaces all share one scope per IP version needs no table at all.
"""

from __future__ import annotations

from neutrino.contract.desired import RouterState
from neutrino.dataplane.naming import QG, QR, device

TABLE = "neutrino-scope"
FAMILY = "inet"


def _devices(router: RouterState) -> list[tuple[str, str | None, str | None, bool]]:
    """(device, IPv4 scope, IPv6 scope, is the gateway) of every interface of the router."""
    out = [(device(QR, i.port_id), i.address_scope_v4, i.address_scope_v6, False) for i in router.interfaces]
    gw = router.gateway
    if gw is not None:
        out.append((device(QG, gw.port_id), gw.address_scope_v4, gw.address_scope_v6, True))
    return out


def _names(devices: list[str]) -> str:
    return "{ " + ", ".join(f'"{d}"' for d in sorted(devices)) + " }"


def drop_rules(router: RouterState) -> list[str]:
    """Per IP version and outgoing device: drop what entered through another scope's device."""
    devs = _devices(router)
    snat = router.gateway is not None and router.gateway.enable_snat
    rules: list[str] = []
    for index, proto in ((1, "ipv4"), (2, "ipv6")):
        for dev, *scopes, is_gateway in devs:
            if is_gateway and snat and proto == "ipv4":
                continue  # leaves translated, in the gateway's scope
            scope = scopes[index - 1]
            same = [d for d, *other, _gw in devs if other[index - 1] == scope]
            if len(same) < len(devs):
                rules.append(f'meta nfproto {proto} oifname "{dev}" iifname != {_names(same)} drop')
    return rules


def render(router: RouterState) -> str | None:
    """The body of ``table inet neutrino-scope``; None when there is nothing to drop."""
    rules = drop_rules(router)
    if not rules:
        return None
    lines = [
        "\tchain forward {",
        "\t\ttype filter hook forward priority 0; policy accept;",
        "\t\tct state established,related accept",
        "\t\tct status dnat accept",
        *(f"\t\t{rule}" for rule in rules),
        "\t}",
    ]
    return "\n".join(lines) + "\n"


def unsnatted_devices(router: RouterState) -> list[str]:
    """The interfaces in the external network's IPv4 scope: their traffic is not SNATed."""
    gw = router.gateway
    if gw is None or gw.address_scope_v4 is None:
        return []
    return sorted(device(QR, i.port_id) for i in router.interfaces if i.address_scope_v4 == gw.address_scope_v4)


def nat_accept_rule(router: RouterState, oif: str) -> list[str]:
    """The NAT table's rule that keeps same-scope traffic untranslated (before the SNAT rule)."""
    devices = unsnatted_devices(router)
    return [f"iifname {_names(devices)} {oif} accept"] if devices else []
