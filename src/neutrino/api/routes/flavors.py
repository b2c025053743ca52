"""``/v2.0/flavors`` and ``/v2.0/service_profiles`` (the generic resource routes), a flavor's
profile bindings (``POST /v2.0/flavors/{id}/service_profiles``, ``DELETE .../{profile_id}``),
``GET /v2.0/flavors/{id}/next_providers`` and ``GET /v2.0/service-providers`` (the
``service-type`` extension). The attribute maps are neutron-lib's flavors definition.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from neutrino.api import body, respond, validators
from neutrino.api.attributes import REQUIRED, Attr, ResourceSpec
from neutrino.api.auth import context_for, state_of
from neutrino.api.openapi import request_body_schema
from neutrino.api.query import parse_list_query, select_fields
from neutrino.api.routes.common import fields_of, in_transaction
from neutrino.domain.services import flavors

NAME_SIZE = 255
LONG_DESCRIPTION_SIZE = 1024


def _bool_or_none(value: Any) -> Any:
    return None if value is None else validators.convert_to_boolean(value)


def _printable(char: str, space: bool = True) -> bool:
    """neutron-lib's printable: no control, format, private or unassigned character, no line or
    paragraph separator, inside the basic plane; ``space``: horizontal spaces (Zs) count too."""
    category = unicodedata.category(char)
    if ord(char) >= 0xFFFF or category.startswith("C"):
        return False
    return not category.startswith("Z") or (space and category == "Zs")


def validate_name_string(value: Any, arg: int | None = None) -> str | None:
    """neutron-lib's ``type:name_string``: a string of printable characters that neither starts
    nor ends with a space."""
    reason = validators.validate_string(value, arg)
    if reason:
        return reason
    if value and not (all(_printable(c) for c in value) and _printable(value[0], False) and _printable(value[-1], False)):
        return f"'{value}' is not a valid string"
    return None


def validate_uuid_list(value: Any, arg: Any = None) -> str | None:
    if not isinstance(value, list):
        return f"'{value}' is not a list"
    for item in value:
        reason = validators.validate_uuid(item)
        if reason:
            return reason
    return None


def _enabled() -> Attr:
    return Attr("enabled", post=True, put=True, default=True, convert=_bool_or_none, json_type="boolean")


def _description() -> Attr:
    return Attr("description", post=True, put=True, default="", validate=validators.validate_string_or_none,
                validate_arg=LONG_DESCRIPTION_SIZE)


FLAVOR = ResourceSpec(
    "flavor",
    "flavors",
    "flavors",
    {
        a.name: a
        for a in (
            Attr("id", validate=validators.validate_uuid),
            Attr("name", post=True, put=True, default="", validate=validate_name_string, validate_arg=NAME_SIZE),
            _description(),
            Attr("service_type", post=True, default=REQUIRED, validate=validators.validate_string),
            Attr("service_profiles", post=True, put=True, default=[], validate=validate_uuid_list, filter=False,
                 sort=False, json_type="array"),
            _enabled(),
        )
    },
    allow_bulk=False,  # neutron's resource_helper builds these without bulk
)

SERVICE_PROFILE = ResourceSpec(
    "service_profile",
    "service_profiles",
    "service_profiles",
    {
        a.name: a
        for a in (
            Attr("id", validate=validators.validate_uuid),
            _description(),
            Attr("driver", post=True, put=True, default="", validate=validators.validate_string,
                 validate_arg=LONG_DESCRIPTION_SIZE),
            Attr("metainfo", post=True, put=True, default="", validate=validators.validate_string_or_none,
                 validate_arg=4096, filter=False),
            _enabled(),
        )
    },
    allow_bulk=False,  # neutron's resource_helper builds these without bulk
)

SERVICE_PROVIDER = ResourceSpec(
    "service_provider",
    "service_providers",
    "service-providers",
    {
        a.name: a
        for a in (
            Attr("service_type", sort=False),
            Attr("name", sort=False),
            Attr("default", convert=validators.convert_to_boolean, sort=False, json_type="boolean"),
        )
    },
    allow_bulk=False,
)
PROVIDER_FILTERS = ("service_type", "name", "driver", "default")
"""What Neutron's provider configuration matches; it validates no filter, so others are ignored."""

BINDING = ResourceSpec(
    "service_profile",
    "service_profiles",
    "flavors/{flavor_id}/service_profiles",
    {"id": Attr("id", post=True, default=REQUIRED, validate=validators.validate_uuid)},
    allow_bulk=False,
)
"""The body of a binding: ``{"service_profile": {"id": ...}}`` (neutron-lib's sub-resource map)."""

router = APIRouter(tags=["flavors"])
_BINDINGS = "/v2.0/flavors/{flavor_id}/service_profiles"


@router.post(_BINDINGS, name="create_flavor_service_profile", status_code=201, openapi_extra=request_body_schema(BINDING, create=True))
async def bind_profile(request: Request, flavor_id: str) -> Response:
    """Neutron answers with the flavor's id under ``service_profile`` (its view keeps only the
    sub-resource's ``id`` of the flavor it returns); so does neutrino."""
    ctx = context_for(request)
    parsed, _bulk = body.parse_create(BINDING, await request.body(), ctx)

    def work(session: Session) -> str:
        return flavors.bind(session, ctx, flavor_id, parsed[0]["id"]).id

    return respond.json({"service_profile": {"id": await in_transaction(request, work)}}, status=201)


@router.delete(_BINDINGS + "/{profile_id}", name="delete_flavor_service_profile", status_code=204)
async def unbind_profile(request: Request, flavor_id: str, profile_id: str) -> Response:
    ctx = context_for(request)

    def work(session: Session) -> None:
        flavors.unbind(session, ctx, flavor_id, profile_id)

    await in_transaction(request, work)
    return respond.empty()


@router.get("/v2.0/flavors/{flavor_id}/next_providers", name="list_flavor_next_providers")
async def next_providers(request: Request, flavor_id: str) -> Response:
    ctx = context_for(request)
    cfg = state_of(request).domain
    fields = fields_of(request)

    def work(session: Session) -> list[dict[str, Any]]:
        return flavors.next_providers(session, ctx, cfg, flavor_id)

    found = await in_transaction(request, work, readonly=True)
    return respond.json({"next_providers": [select_fields(d, fields) for d in found]})


def _provider_filter(key: str, value: str) -> Any:
    """``default`` as a boolean (Neutron compares the raw string, which never matches); a value
    that is no boolean stays a string and matches nothing."""
    if key != "default":
        return value
    try:
        return validators.convert_to_boolean(value)
    except validators.ConversionError:
        return value


@router.get("/v2.0/service-providers", name="list_service_providers")
async def list_service_providers(request: Request) -> Response:
    """The providers of the loaded service plugins, filtered by ``service_type``, ``name``,
    ``driver``, ``default``; no attribute is a sort key (400), and a handful is never paged."""
    context_for(request)
    items = list(request.query_params.multi_items())
    filters: dict[str, list[Any]] = {}
    for key, value in items:
        if key in PROVIDER_FILTERS:
            filters.setdefault(key, []).append(_provider_filter(key, value))
    parse_list_query(SERVICE_PROVIDER, [(k, v) for k, v in items if k in ("sort_key", "sort_dir")])
    fields = [f for k, v in items if k == "fields" for f in v.split(",") if f]
    found = state_of(request).domain.services.find(filters)
    visible = [{"service_type": p.service_type, "name": p.name, "default": p.default} for p in found]
    return respond.json({"service_providers": [select_fields(d, fields) for d in visible]})
