"""``/v2.0/segments``: network segments as a resource (Neutron's ``segment`` extension), admin
only; the generic resource routes over domain/services/network_segments.py."""

from __future__ import annotations

from fastapi import APIRouter

from neutrino.api import validators
from neutrino.api.attributes import REQUIRED, Attr, ResourceSpec
from neutrino.api.routes import resources
from neutrino.domain.services import network_segments

SEGMENT = ResourceSpec(
    "segment",
    "segments",
    "segments",
    {
        a.name: a
        for a in (
            Attr("id", validate=validators.validate_uuid),
            Attr("tenant_id", post=True, validate=validators.validate_string, validate_arg=255, visible=False,
                 filter=False, sort=False),
            Attr("project_id", post=True, validate=validators.validate_string, validate_arg=255, visible=False,
                 filter=False, sort=False),
            Attr("network_id", post=True, default=REQUIRED, validate=validators.validate_uuid),
            Attr("network_type", post=True, default=REQUIRED, validate=validators.validate_string, validate_arg=32),
            Attr("physical_network", post=True, validate=validators.validate_string_or_none, validate_arg=64),
            Attr("segmentation_id", post=True, convert=validators.convert_to_int, json_type="integer"),
            Attr("name", post=True, put=True, validate=validators.validate_string_or_none, validate_arg=255),
            Attr("description", post=True, put=True, default="", validate=validators.validate_string,
                 validate_arg=255),
            Attr("created_at", filter=False),
            Attr("updated_at", filter=False),
            Attr("revision_number", convert=validators.convert_to_int, json_type="integer"),
        )
    },
)

router: APIRouter = resources.build_router(SEGMENT, network_segments)
