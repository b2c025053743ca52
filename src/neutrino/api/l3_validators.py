"""Request syntax of the L3 resources: ``external_gateway_info`` and the member-action bodies.

Kept beside ``validators`` (whose primitives it reuses) so that the attribute maps, the router
action routes and the tests share one definition of what a well-formed L3 request is; rules
that need the database (is the network external, is the nexthop connected) are in the domain.
"""

from __future__ import annotations

from typing import Any

from neutrino.api import validators

GATEWAY_INFO_KEYS: dict[str, dict[str, Any]] = {
    "network_id": {"type:uuid": None, "required": True},
    "external_fixed_ips": {"type:fixed_ips": None, "required": False},
    "enable_snat": {"type:boolean": None, "required": False, "convert_to": validators.convert_to_boolean},
}


def validate_external_gateway_info(value: Any, arg: Any = None) -> str | None:
    """neutron-lib's ``type:dict_or_nodata`` with the l3 key specs: ``None`` or ``{}`` clear
    the gateway; otherwise ``network_id`` is required (``enable_snat`` is converted in place)."""
    if value is None or value == {}:
        return None
    return validators.validate_dict(value, GATEWAY_INFO_KEYS)


def interface_info(body: Any) -> tuple[str | None, str | None]:
    """(port_id, subnet_id) of an add/remove_router_interface body; raises ``ValueError`` with
    Neutron's reason when a given id is not a UUID."""
    if not isinstance(body, dict):
        raise ValueError(f"'{body}' is not a dictionary")
    for key in ("port_id", "subnet_id"):
        if key in body:
            reason = validators.validate_uuid(body[key])
            if reason:
                raise ValueError(reason)
    return body.get("port_id"), body.get("subnet_id")


def extraroutes(body: Any) -> list[dict[str, str]]:
    """The routes of an add/remove_extraroutes body ``{"router": {"routes": [...]}}``; raises
    ``ValueError`` with the reason."""
    if not isinstance(body, dict) or not isinstance(body.get("router"), dict):
        raise ValueError("Unable to find 'router' in request body")
    item = body["router"]
    unknown = [k for k in item if k != "routes"]
    if unknown:
        raise ValueError(f"Unrecognized attribute(s) '{', '.join(map(str, unknown))}'")
    if "routes" not in item:
        raise ValueError("Failed to parse request. Required attribute 'routes' not specified")
    routes = validators.convert_none_to_empty_list(item["routes"])
    reason = validators.validate_host_routes(routes)
    if reason:
        raise ValueError(f"Invalid input for routes. Reason: {reason}.")
    return list(routes)
