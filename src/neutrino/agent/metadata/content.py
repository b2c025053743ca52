"""The metadata an instance reads, rendered from its port (pure: a port's data in, a response out).

No Nova here: the port stands for the instance (docs/metadata.md). The port's ``device_id`` is
the instance's uuid, its ``name`` the instance's name, its ``dns_name`` (else the name) the
hostname. Two layouts, as cloud-init reads them:

* OpenStack: ``/openstack/`` lists versions; ``/openstack/<version>/`` lists
  ``meta_data.json``, ``network_data.json`` and ``vendor_data.json``; ``network_data.json`` has
  Nova's shape (``links`` with the port's MAC and MTU, ``networks`` one per fixed IP: only the
  link and type ``ipv4_dhcp`` when its subnet has DHCP, else the address, netmask and routes,
  and ``services``: the subnets' DNS servers);
* EC2: ``/<version>/meta-data/`` lists keys; ``instance-id``, ``local-ipv4``, ``hostname``,
  ``local-hostname``, ``public-ipv4`` (a floating IP, when there is one), ``ami-launch-index``.

Every version a listing names serves the same content. No user data: 404, as Nova without any.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any

OPENSTACK_VERSIONS = ("2013-10-17", "2015-10-15", "2016-06-30", "2018-08-27", "latest")
EC2_VERSIONS = ("1.0", "2007-01-19", "2009-04-04", "latest")
LINK_PREFIX = "tap"


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=UTF-8"


NOT_FOUND = Response(404, b"404 Not Found\n\nThe resource could not be found.\n")


def _text(lines: list[str]) -> Response:
    return Response(200, "\n".join(lines).encode())


def _json(doc: Any) -> Response:
    return Response(200, json.dumps(doc, sort_keys=True).encode(), "application/json")


def hostname(port: dict[str, Any]) -> str:
    """The port's ``dns_name``, else its name made a host name, else ``host-<ip with dashes>``."""
    name = port.get("dns_name") or re.sub(r"[^a-z0-9-]+", "-", (port.get("name") or "").lower()).strip("-")
    if name:
        return name.rstrip(".")
    ips = [f["ip_address"] for f in port.get("fixed_ips", ())]
    return "host-" + ips[0].replace(".", "-").replace(":", "-") if ips else "instance"


def instance_name(port: dict[str, Any]) -> str:
    return str(port.get("name") or hostname(port))


def ec2_instance_id(port: dict[str, Any]) -> str:
    """``i-`` and the first 8 hex digits of the uuid (Nova's are of its integer id, which has no
    counterpart here)."""
    return "i-" + re.sub(r"[^0-9a-f]", "", str(port.get("device_id", "")).lower())[:8].rjust(8, "0")


def meta_data(port: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": port.get("device_id", ""),
        "name": instance_name(port),
        "hostname": hostname(port),
        "project_id": port.get("project_id", ""),
        "launch_index": 0,
        "availability_zone": port.get("availability_zone") or "nova",
        "public_keys": {},
        "keys": [],
        "meta": {},
        "devices": [],
    }


def link_id(port: dict[str, Any]) -> str:
    return LINK_PREFIX + str(port.get("port_id", ""))[:11]


def _route(destination: str, gateway: str) -> dict[str, str]:
    net = ipaddress.ip_network(destination, strict=False)
    return {"network": str(net.network_address), "netmask": str(net.netmask), "gateway": gateway}


def _dns_services(fixed: dict[str, Any]) -> list[dict[str, str]]:
    return [{"type": "dns", "address": address} for address in fixed.get("dns_nameservers", ())]


def _network(index: int, link: str, network_id: str, fixed: dict[str, Any]) -> dict[str, Any]:
    version = int(fixed.get("ip_version", 4))
    if fixed.get("enable_dhcp") and (version == 4 or fixed.get("ipv6_address_mode")):
        kind = "ipv4_dhcp" if version == 4 else f"ipv6_{fixed['ipv6_address_mode']}"
        return {"id": f"network{index}", "type": kind, "link": link, "network_id": network_id}
    net = ipaddress.ip_network(fixed["cidr"], strict=False)
    routes = []
    if fixed.get("gateway_ip"):
        routes.append(_route("0.0.0.0/0" if version == 4 else "::/0", fixed["gateway_ip"]))
    routes += [_route(dest, hop) for dest, hop in fixed.get("host_routes", ()) if ipaddress.ip_network(dest, strict=False).prefixlen]
    return {"id": f"network{index}", "type": f"ipv{version}", "link": link, "ip_address": fixed["ip_address"],
            "netmask": str(net.netmask), "routes": routes, "network_id": network_id,
            "services": _dns_services(fixed)}  # fmt: skip


def network_data(port: dict[str, Any]) -> dict[str, Any]:
    link = link_id(port)
    links = [{"id": link, "vif_id": port.get("port_id", ""), "type": "ovs", "mtu": port.get("mtu") or None,
              "ethernet_mac_address": port.get("mac_address", "")}]  # fmt: skip
    fixed_ips = list(port.get("fixed_ips", ()))
    networks = [_network(i, link, port.get("network_id", ""), f) for i, f in enumerate(fixed_ips)]
    services: list[dict[str, str]] = []
    for f in fixed_ips:
        services += [s for s in _dns_services(f) if s not in services]
    return {"links": links, "networks": networks, "services": services}


def ec2_meta_data(port: dict[str, Any]) -> dict[str, str]:
    v4 = [f["ip_address"] for f in port.get("fixed_ips", ()) if int(f.get("ip_version", 4)) == 4]
    out = {
        "ami-launch-index": "0",
        "hostname": hostname(port),
        "instance-id": ec2_instance_id(port),
        "local-hostname": hostname(port),
        "local-ipv4": v4[0] if v4 else "",
        "placement/availability-zone": port.get("availability_zone") or "nova",
    }
    fips = list(port.get("floating_ips", ()))
    if fips:
        out["public-hostname"] = fips[0]
        out["public-ipv4"] = fips[0]
    return out


def _ec2(rest: list[str], port: dict[str, Any]) -> Response:
    if not rest or rest[0] != "meta-data":
        return _text(["meta-data"]) if not rest else NOT_FOUND
    values = ec2_meta_data(port)
    key = "/".join(rest[1:])
    if not key:
        return _text(sorted({k.split("/")[0] + ("/" if "/" in k else "") for k in values}))
    if key in values:
        return Response(200, values[key].encode())
    children = sorted(k[len(key) + 1:] for k in values if k.startswith(key + "/"))
    return _text(children) if children else NOT_FOUND


def render(path: str, port: dict[str, Any]) -> Response:
    """The answer to ``GET path`` (without the query string) for the instance of ``port``."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        return _text(list(EC2_VERSIONS) + ["openstack"])
    if parts[0] == "openstack":
        if len(parts) == 1:
            return _text(list(OPENSTACK_VERSIONS))
        if parts[1] not in OPENSTACK_VERSIONS:
            return NOT_FOUND
        files = {"meta_data.json": meta_data, "network_data.json": network_data, "vendor_data.json": lambda _p: {}}
        if len(parts) == 2:
            return _text(sorted(files))
        if len(parts) == 3 and parts[2] in files:
            return _json(files[parts[2]](port))
        return NOT_FOUND
    if parts[0] in EC2_VERSIONS:
        return _ec2(parts[1:], port)
    return NOT_FOUND
