"""``/v2.0/qos/...``: policies (the generic resource routes), their rules per type
(``/qos/policies/{id}/bandwidth_limit_rules[/{rule_id}]``, ``dscp_marking_rules``,
``minimum_bandwidth_rules``, ``minimum_packet_rate_rules``: list, show, create, update, delete) and the rule types
(``/qos/rule-types[/{type}]``; the details are admin-only, as in Neutron).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from neutrino import errors
from neutrino.api import body, respond, validators
from neutrino.api.attributes import Attr, ResourceSpec, _bool, _name, _standard
from neutrino.api.auth import context_for
from neutrino.api.routes.common import in_transaction
from neutrino.domain.qos import rules as qos_rules
from neutrino.domain.services import qos_policies

POLICY = ResourceSpec(
    "policy",
    "policies",
    "qos/policies",
    {a.name: a for a in (*_standard(), _name(), _bool("shared", False), _bool("is_default", False),
                         Attr("rules", filter=False, sort=False, json_type="array"))},
    tag_type="policy",
)

NETWORK_ATTRS = [Attr("qos_policy_id", post=True, put=True, validate=validators.validate_uuid_or_none, sort=False)]
PORT_ATTRS = [*NETWORK_ATTRS, Attr("qos_network_policy_id", sort=False),
              Attr("resource_request", filter=False, sort=False, json_type="object")]
"""What the qos plugin adds to networks and ports (stored by domain/services/qos_bindings.py)."""

POLICY_TAGS = dataclasses.replace(POLICY, path="policies")
"""The path the tag extension gives QoS policies: ``/v2.0/policies/{id}/tags``."""

router = APIRouter(tags=["qos"])


def _rule_type(collection: str) -> qos_rules.RuleType:
    found = qos_rules.BY_COLLECTION.get(collection)
    if found is None:
        raise errors.HTTPNotFound(msg="The resource could not be found.")
    return found


def _values(rule_type: qos_rules.RuleType, raw: bytes, *, create: bool) -> dict[str, Any]:
    doc = body.load_json(raw)
    if not isinstance(doc, dict) or rule_type.singular not in doc:
        raise body.bad(f"Unable to find '{rule_type.singular}' in request body")
    try:
        return qos_rules.check_body(rule_type, doc[rule_type.singular], create=create)
    except ValueError as exc:
        raise body.bad(str(exc)) from None


_RULES = "/v2.0/qos/policies/{policy_id}/{collection}"


@router.get(_RULES, name="list_qos_rules")
async def list_rules(request: Request, policy_id: str, collection: str) -> Response:
    ctx, rule_type = context_for(request), _rule_type(collection)
    found = await in_transaction(request, lambda s: qos_policies.list_rules(s, ctx, policy_id, rule_type), readonly=True)
    return respond.json({collection: found})


@router.get(_RULES + "/{rule_id}", name="show_qos_rule")
async def show_rule(request: Request, policy_id: str, collection: str, rule_id: str) -> Response:
    ctx, rule_type = context_for(request), _rule_type(collection)

    def work(session: Session) -> dict[str, Any]:
        return qos_policies.show_rule(session, ctx, policy_id, rule_type, rule_id)

    return respond.json({rule_type.singular: await in_transaction(request, work, readonly=True)})


@router.post(_RULES, name="create_qos_rule", status_code=201)
async def create_rule(request: Request, policy_id: str, collection: str) -> Response:
    ctx, rule_type = context_for(request), _rule_type(collection)
    values = _values(rule_type, await request.body(), create=True)

    def work(session: Session) -> dict[str, Any]:
        return qos_policies.create_rule(session, ctx, policy_id, rule_type, values)

    return respond.json({rule_type.singular: await in_transaction(request, work)}, status=201)


@router.put(_RULES + "/{rule_id}", name="update_qos_rule")
async def update_rule(request: Request, policy_id: str, collection: str, rule_id: str) -> Response:
    ctx, rule_type = context_for(request), _rule_type(collection)
    values = _values(rule_type, await request.body(), create=False)

    def work(session: Session) -> dict[str, Any]:
        return qos_policies.update_rule(session, ctx, policy_id, rule_type, rule_id, values)

    return respond.json({rule_type.singular: await in_transaction(request, work)})


@router.delete(_RULES + "/{rule_id}", name="delete_qos_rule", status_code=204)
async def delete_rule(request: Request, policy_id: str, collection: str, rule_id: str) -> Response:
    ctx, rule_type = context_for(request), _rule_type(collection)
    await in_transaction(request, lambda s: qos_policies.delete_rule(s, ctx, policy_id, rule_type, rule_id))
    return respond.empty()


@router.get("/v2.0/qos/rule-types", name="list_qos_rule_types")
async def list_rule_types(request: Request) -> Response:
    context_for(request)
    return respond.json({"rule_types": [{"type": name} for name in qos_rules.RULE_TYPES]})


@router.get("/v2.0/qos/rule-types/{rule_type}", name="show_qos_rule_type")
async def show_rule_type(request: Request, rule_type: str) -> Response:
    ctx = context_for(request)
    if not ctx.is_admin:
        raise errors.PolicyNotAuthorized(action="get_rule_type")
    found = qos_rules.RULE_TYPES.get(rule_type)
    if found is None:
        raise errors.HTTPNotFound(msg=f"Rule type {rule_type} could not be found.")
    return respond.json({"rule_type": qos_rules.rule_type_details(found)})
