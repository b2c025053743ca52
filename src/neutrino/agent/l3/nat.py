"""What a router's namespace should hold, as data: the NAT table text, addresses and routes.

Pure functions of a ``RouterState``; the reconciler compares them with the kernel. The NAT
table is Neutron's L3 rule set (docs/neutron-behaviour.md, "L3 agent") written for nftables
(docs/dataplane.md, "nftables: one backend, whole tables, and its quirks"):

* prerouting and output: ``ip daddr <fip> dnat to <fixed>`` per associated floating IP (the
  output chain covers traffic the router itself originates), and per port forwarding
  ``ip daddr <fip> <proto> dport <ports> dnat to <internal ip>:<port>`` (one internal port for a
  whole external range; equal ranges map port to port through an anonymous map, which nft's
  plain ``dnat to ip:a-b`` would not: it picks any port of the range);
* postrouting: floating-IP SNAT ``ip saddr <fixed> oifname <qg> snat to <fip>`` first, then with
  ``enable_snat`` the gateway SNAT ``oifname <qg> ct status & dnat == 0 snat to <gateway ip>``.
  Only traffic leaving through qg- is translated (no SNAT east-west), and a connection already
  DNATed to a floating IP keeps it.

``ct status != dnat`` would be wrong: nft compiles it to an exact comparison of the whole
status word (``cmp neq 0x20``), which is true for nearly every connection; ``& dnat == 0``
tests the bit (nft lists it back as ``ct status ! dnat``). IPv4 only, like Neutron's NAT.
"""

from __future__ import annotations

import ipaddress

from neutrino.agent.l3 import scopes
from neutrino.dataplane.naming import QG, QR, device
from neutrino.contract.desired import PortForwardingState, RouterState

TABLE = "neutrino-nat"
FAMILY = "ip"


def _v4(address: str | None) -> bool:
    return address is not None and ipaddress.ip_address(address).version == 4


def qg_device(router: RouterState) -> str | None:
    return device(QG, router.gateway.port_id) if router.gateway is not None else None


def gateway_ip(router: RouterState) -> str | None:
    """The first IPv4 address of the gateway port: the source of the router's SNAT."""
    if router.gateway is None:
        return None
    return next((f.ip_address for f in router.gateway.fixed_ips if _v4(f.ip_address)), None)


def floating_ips(router: RouterState) -> list[tuple[str, str]]:
    """(floating IP, fixed IP) of every associated IPv4 floating IP, sorted; none without a gateway."""
    if router.gateway is None:
        return []
    pairs = {
        (f.floating_ip_address, f.fixed_ip_address)
        for f in router.floating_ips
        if f.port_id and f.fixed_ip_address and _v4(f.floating_ip_address) and _v4(f.fixed_ip_address)
    }
    return sorted(pairs, key=lambda p: ipaddress.ip_address(p[0]))


def port_forwardings(router: RouterState) -> list[PortForwardingState]:
    """The IPv4 port forwardings to program, sorted; none without a gateway."""
    if router.gateway is None:
        return []
    wanted = [p for p in router.port_forwardings if _v4(p.floating_ip_address) and _v4(p.internal_ip_address)]
    return sorted(wanted, key=lambda p: (ipaddress.ip_address(p.floating_ip_address), p.protocol, p.external_port_start))


def _ports(start: int, end: int) -> str:
    return str(start) if start == end else f"{start}-{end}"


def forwarding_rule(pf: PortForwardingState) -> str:
    """One nft rule for one forwarding (a 1-N or N-N range stays one rule)."""
    match = f"ip daddr {pf.floating_ip_address} {pf.protocol} dport {_ports(pf.external_port_start, pf.external_port_end)}"
    if pf.internal_port_start == pf.internal_port_end:
        return f"{match} dnat to {pf.internal_ip_address}:{pf.internal_port_start}"
    pairs = ", ".join(
        f"{pf.external_port_start + i} : {pf.internal_port_start + i}"
        for i in range(pf.external_port_end - pf.external_port_start + 1)
    )
    return f"{match} dnat to {pf.internal_ip_address} : {pf.protocol} dport map {{ {pairs} }}"


def _chain(name: str, hook: str, priority: str, rules: list[str]) -> list[str]:
    return [
        f"\tchain {name} {{",
        f"\t\ttype nat hook {hook} priority {priority}; policy accept;",
        *(f"\t\t{rule}" for rule in rules),
        "\t}",
    ]


METADATA_IP = "169.254.169.254"


def metadata_redirect(port: int) -> str:
    """Neutron's metadata NAT rule: 169.254.169.254 tcp 80 arriving on a qr- device goes to the
    proxy listening on ``port`` in the namespace (docs/neutron-behaviour.md, "Metadata")."""
    return f'iifname "{QR}*" ip daddr {METADATA_IP} tcp dport 80 redirect to :{port}'


def render(router: RouterState, qg_device: str, metadata_port: int | None = None) -> str:
    """The body of ``table ip neutrino-nat``: three base chains, empty without a gateway (but
    for the metadata redirect, with ``metadata_port``)."""
    fips = floating_ips(router)
    dnat = [f"ip daddr {fip} dnat to {fixed}" for fip, fixed in fips]
    dnat += [forwarding_rule(pf) for pf in port_forwardings(router)]
    snat: list[str] = []
    if router.gateway is not None and qg_device:
        oif = f'oifname "{qg_device}"'
        snat = [f"ip saddr {fixed} {oif} snat to {fip}" for fip, fixed in fips]
        gw = gateway_ip(router)
        if router.gateway.enable_snat and gw:
            snat += scopes.nat_accept_rule(router, oif)  # same address scope: routed, not SNATed
            snat.append(f"{oif} ct status & dnat == 0 snat to {gw}")
    redirect = [metadata_redirect(metadata_port)] if metadata_port else []
    lines = [
        *_chain("prerouting", "prerouting", "dstnat", redirect + dnat),
        *_chain("output", "output", "-100", dnat),
        *_chain("postrouting", "postrouting", "srcnat", snat),
    ]
    if metadata_port:  # the proxy only through the redirect, as Neutron's INPUT rules (docs/metadata.md)
        lines += ["\tchain metadata-input {", "\t\ttype filter hook input priority filter; policy accept;",
                  f"\t\ttcp dport {metadata_port} ct status & dnat == 0 drop", "\t}"]  # fmt: skip
    return "\n".join(lines) + "\n"


def addresses(router: RouterState) -> dict[str, list[str]]:
    """Device → addresses with prefix: each qr- its fixed IPs, qg- its fixed IPs and the
    floating IPs it serves (associated or forwarding ports) as /32."""
    out: dict[str, list[str]] = {}
    for iface in router.interfaces:
        out[device(QR, iface.port_id)] = [f"{f.ip_address}/{f.prefixlen}" for f in iface.fixed_ips]
    if router.gateway is not None:
        qg = device(QG, router.gateway.port_id)
        out[qg] = [f"{f.ip_address}/{f.prefixlen}" for f in router.gateway.fixed_ips]
        served = [fip for fip, _fixed in floating_ips(router)] + [p.floating_ip_address for p in port_forwardings(router)]
        for fip in served:
            if f"{fip}/32" not in out[qg]:
                out[qg].append(f"{fip}/32")
    return out


def _dst(destination: str) -> str:
    net = ipaddress.ip_network(destination, strict=False)
    return "default" if net.prefixlen == 0 else str(net)


def routes(router: RouterState) -> list[tuple[str, str | None]]:
    """IPv4 routes, one per destination (``default`` or a CIDR), in the order to add them.

    The default route goes via the external subnet's gateway_ip; a gateway outside its subnet
    first gets an on-link ``<gw>/32`` route (nexthop None: directly via qg-). Then the extra
    routes; several nexthops for one destination (ECMP in Neutron) keep only the first.
    """
    out: dict[str, str | None] = {}
    if router.gateway is not None:
        for f in router.gateway.fixed_ips:
            if _v4(f.ip_address) and _v4(f.gateway_ip):
                assert f.gateway_ip is not None
                if ipaddress.ip_address(f.gateway_ip) not in ipaddress.ip_network(f.cidr, strict=False):
                    out[f"{f.gateway_ip}/32"] = None
                out["default"] = f.gateway_ip
                break
    for destination, nexthop in router.routes:
        if ipaddress.ip_network(destination, strict=False).version == 4 and _v4(nexthop):
            out.setdefault(_dst(destination), nexthop)
    return list(out.items())
