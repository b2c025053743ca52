"""Helpers for the router and floating IP API tests: an external network, a router, its
interfaces and gateway through the HTTP API."""

from __future__ import annotations

from typing import Any


def err(r: Any) -> str:
    return r.json()["NeutronError"]["type"]


def ext_net(api, cidr: str = "172.24.4.0/24"):  # type: ignore[no-untyped-def]
    net = api.network(name="ext", **{"router:external": True})
    return net, api.subnet(net["id"], cidr)


def make_router(api, **attrs):  # type: ignore[no-untyped-def]
    r = api.post("/v2.0/routers", {"router": {"name": "r", **attrs}})
    assert r.status_code == 201, r.text
    return r.json()["router"]


def show(api, rid: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    r = api.get(f"/v2.0/routers/{rid}")
    assert r.status_code == 200, r.text
    return r.json()["router"]


def add_if(api, rid: str, **body):  # type: ignore[no-untyped-def]
    return api.put(f"/v2.0/routers/{rid}/add_router_interface", body)


def remove_if(api, rid: str, **body):  # type: ignore[no-untyped-def]
    return api.put(f"/v2.0/routers/{rid}/remove_router_interface", body)


def router_ports(api, rid: str) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    return api.get(f"/v2.0/ports?device_id={rid}").json()["ports"]


def set_gw(api, rid: str, info):  # type: ignore[no-untyped-def]
    return api.put(f"/v2.0/routers/{rid}", {"router": {"external_gateway_info": info}})
