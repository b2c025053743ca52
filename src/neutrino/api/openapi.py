"""Request-body schemas for the served OpenAPI document, derived from the attribute maps.

Handlers read raw bodies (to give Neutron's exact errors), so FastAPI cannot infer these;
deriving them from the same maps the parser uses keeps the document truthful, which is what
lets a schema-driven fuzzer (schemathesis) exercise every route.
"""

from __future__ import annotations

from typing import Any

from neutrino.api.attributes import REQUIRED, ResourceSpec

_TYPES = {
    "string": {"type": ["string", "null"]},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "array": {"type": "array"},
}


def item_schema(spec: ResourceSpec, *, create: bool) -> dict[str, Any]:
    props: dict[str, Any] = {}
    required: list[str] = []
    for attr in spec.attrs.values():
        if not (attr.post if create else attr.put):
            continue
        props[attr.name] = dict(_TYPES.get(attr.json_type, {}))
        if create and attr.default is REQUIRED:
            required.append(attr.name)
    schema: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def request_body_schema(spec: ResourceSpec, *, create: bool) -> dict[str, Any]:
    item = item_schema(spec, create=create)
    envelope: dict[str, Any] = {
        "type": "object",
        "properties": {spec.singular: item},
        "required": [spec.singular],
    }
    if create and spec.allow_bulk:
        envelope = {
            "oneOf": [
                envelope,
                {
                    "type": "object",
                    "properties": {spec.collection: {"type": "array", "items": item}},
                    "required": [spec.collection],
                },
            ]
        }
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": envelope}}}}
