"""Turn a request body into the attributes a service receives, with Neutron's error messages.

POST: unknown attributes, attributes not allowed on POST, missing required ones, and failed
conversion or validation each give 400 (type HTTPBadRequest, as Neutron's webob errors do).
Bulk bodies (the plural key with a list, items bare or wrapped in the singular key) are parsed
item by item and created atomically.
"""

from __future__ import annotations

from typing import Any

import orjson

from neutrino import errors
from neutrino.api import input_guard
from neutrino.api import validators
from neutrino.api.attributes import NOT_SPECIFIED, REQUIRED, Attr, ResourceSpec
from neutrino.domain.context import Context


def bad(msg: str) -> errors.HTTPBadRequest:
    return errors.HTTPBadRequest(msg=msg)


def load_json(raw: bytes) -> Any:
    if not raw or not raw.strip():
        raise bad("Resource body required")
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad(f"Malformed request body: {exc}") from None
    return input_guard.check_body(parsed)


def _convert_and_validate(attr: Attr, value: Any) -> Any:
    if attr.convert is not None:
        try:
            value = attr.convert(value)
        except validators.ConversionError as exc:
            raise errors.InvalidInput(error_message=str(exc)) from None
    if attr.validate is not None:
        reason = (
            attr.validate(value, attr.validate_arg)
            if attr.validate_arg is not None
            else attr.validate(value)
        )
        if reason:
            raise bad(f"Invalid input for {attr.name}. Reason: {reason}.")
    return value


def _check_keys(spec: ResourceSpec, item: dict[str, Any], *, create: bool) -> None:
    unknown = [k for k in item if k not in spec.attrs]
    if unknown:
        raise bad(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    for key in item:
        attr = spec.attrs[key]
        if create and not attr.post:
            raise bad(f"Attribute '{key}' not allowed in POST")
        if not create and not attr.put:
            raise bad(f"Cannot update read-only attribute {key}")


def _project(item: dict[str, Any], ctx: Context) -> str:
    project = item.pop("project_id", None)
    tenant = item.pop("tenant_id", None)
    if project is not None and tenant is not None and project != tenant:
        raise bad("'project_id' and 'tenant_id' do not match")
    given = project if project is not None else tenant
    if given is None:
        if not ctx.project_id:
            raise bad("Running without keystone AuthN requires that tenant_id is specified")
        return ctx.project_id
    if given != ctx.project_id and not ctx.is_admin:
        raise bad("Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges")
    return str(given)


def parse_create_item(spec: ResourceSpec, item: Any, ctx: Context) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise bad(f"Unable to find '{spec.singular}' in request body")
    _check_keys(spec, item, create=True)
    out: dict[str, Any] = {}
    for name, attr in spec.attrs.items():
        if not attr.post or name in ("project_id", "tenant_id"):
            continue
        if name in item:
            out[name] = _convert_and_validate(attr, item[name])
        elif attr.default is REQUIRED:
            raise bad(f"Failed to parse request. Required attribute '{name}' not specified")
        elif attr.default is not NOT_SPECIFIED:
            default = attr.default
            out[name] = list(default) if isinstance(default, list) else default
    for name in ("project_id", "tenant_id"):
        if name in item:
            _convert_and_validate(spec.attrs[name], item[name])
    out["project_id"] = _project(dict(item), ctx)
    return out


def _unwrapped(spec: ResourceSpec, item: Any) -> Any:
    """A bulk item may come wrapped in its singular key (``{"port": {...}}``), as Neutron's
    ``prepare_request_body`` accepts; tempest's bulk helpers send them so."""
    if isinstance(item, dict) and spec.singular in item:
        return item[spec.singular]
    return item


def parse_create(spec: ResourceSpec, raw: bytes, ctx: Context) -> tuple[list[dict[str, Any]], bool]:
    """Returns the parsed items and whether the request was a bulk one."""
    body = load_json(raw)
    if not isinstance(body, dict):
        raise bad("Body contains invalid data")
    if spec.collection in body and spec.singular not in body:
        items = body[spec.collection]
        if not spec.allow_bulk:
            raise bad("Bulk operation not supported")
        if not isinstance(items, list) or not items:
            raise bad("Resources required")
        if len(body) > 1:
            raise bad(f"Unrecognized attribute(s) '{', '.join(k for k in body if k != spec.collection)}'")
        return [parse_create_item(spec, _unwrapped(spec, i), ctx) for i in items], True
    if spec.singular not in body:
        raise bad(f"Unable to find '{spec.singular}' in request body")
    return [parse_create_item(spec, body[spec.singular], ctx)], False


def parse_update(spec: ResourceSpec, raw: bytes) -> dict[str, Any]:
    body = load_json(raw)
    if not isinstance(body, dict) or spec.singular not in body:
        raise bad(f"Unable to find '{spec.singular}' in request body")
    item = body[spec.singular]
    if not isinstance(item, dict):
        raise bad(f"Unable to find '{spec.singular}' in request body")
    _check_keys(spec, item, create=False)
    return {k: _convert_and_validate(spec.attrs[k], val) for k, val in item.items()}
