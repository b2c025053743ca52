"""The identity router: version discovery plus the token and administration endpoints.

Every identity route is built under ``/identity`` (``PREFIX``), so the auth URL clients use is
``<server url>/identity/v3`` and the unversioned ``<server url>/identity`` lists the versions.
Clients given an unversioned auth URL need that list (status 300, Keystone's ``values`` form);
given ``.../v3`` they fetch the single version document.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from neutrino.api.identity import admin, roles, tokens
from neutrino.api.identity.common import PREFIX, identity_url, json_response

router = APIRouter(prefix=PREFIX)

V3_ID = "v3.14"
V3_UPDATED = "2020-04-07T00:00:00Z"
V3_MEDIA_TYPES = [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]


def _v3(request: Request) -> dict[str, Any]:
    return {
        "id": V3_ID,
        "status": "stable",
        "updated": V3_UPDATED,
        "links": [{"rel": "self", "href": f"{identity_url(request)}/v3/"}],
        "media-types": V3_MEDIA_TYPES,
    }


@router.get("")
@router.get("/", include_in_schema=False)
def versions(request: Request) -> Response:
    return json_response({"versions": {"values": [_v3(request)]}}, 300)


@router.get("/v3")
@router.get("/v3/", include_in_schema=False)
def version_v3(request: Request) -> Response:
    return json_response({"version": _v3(request)})


# the app adds these routes itself (api/app.py, ``_add_routes``), in this order
ROUTERS = [router, tokens.router, admin.router, roles.router]
