"""Keystone's JSON shapes for domains, projects, users, roles, grants and token bodies.

Clients parse these with their own models (keystoneauth's AccessInfoV3, openstacksdk's
identity resources), so the field names and the ``links`` objects follow Keystone exactly;
neutrino-only attributes are never added.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from neutrino.domain.identity.service import Assignment, Domain, find_domain
from neutrino.domain.identity.tokens import TokenInfo
from neutrino.domain.models.identity import Project, Role, User

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.000000Z"


def domain_view(base: str, domain: Domain) -> dict[str, Any]:
    return {
        "id": domain.id,
        "name": domain.name,
        "description": domain.description,
        "enabled": domain.enabled,
        "tags": [],
        "options": {},
        "links": {"self": f"{base}/v3/domains/{domain.id}"},
    }


def project_view(base: str, project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "domain_id": project.domain_id,
        "description": project.description,
        "enabled": project.enabled,
        "parent_id": project.domain_id,  # top-level projects have their domain as parent
        "is_domain": False,
        "tags": [],
        "options": {},
        "links": {"self": f"{base}/v3/projects/{project.id}"},
    }


def user_view(base: str, user: User) -> dict[str, Any]:
    """A user; optional attributes appear only when set, and the password never does."""
    view: dict[str, Any] = {
        "id": user.id,
        "name": user.name,
        "domain_id": user.domain_id,
        "enabled": user.enabled,
        "password_expires_at": None,
        "options": {},
        "links": {"self": f"{base}/v3/users/{user.id}"},
    }
    if user.default_project_id:
        view["default_project_id"] = user.default_project_id
    if user.description:
        view["description"] = user.description
    if user.email:
        view["email"] = user.email
    return view


def role_view(base: str, role: Role) -> dict[str, Any]:
    return {
        "id": role.id,
        "name": role.name,
        "domain_id": None,
        "description": None,
        "options": {},
        "links": {"self": f"{base}/v3/roles/{role.id}"},
    }


def collection(base: str, key: str, path: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {key: items, "links": {"self": f"{base}/v3/{path}", "previous": None, "next": None}}


def _named_domain(domain_id: str) -> dict[str, str]:
    domain = find_domain(domain_id=domain_id)
    return {"id": domain_id, "name": domain.name if domain else domain_id}


def assignment_view(base: str, item: Assignment, include_names: bool) -> dict[str, Any]:
    user: dict[str, Any] = {"id": item.user.id}
    project: dict[str, Any] = {"id": item.project.id}
    role: dict[str, Any] = {"id": item.role.id}
    if include_names:
        user.update(name=item.user.name, domain=_named_domain(item.user.domain_id))
        project.update(name=item.project.name, domain=_named_domain(item.project.domain_id))
        role["name"] = item.role.name
    grant = f"{base}/v3/projects/{item.project.id}/users/{item.user.id}/roles/{item.role.id}"
    return {"user": user, "scope": {"project": project}, "role": role, "links": {"assignment": grant}}


# --- tokens -----------------------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    return moment.strftime(TIME_FORMAT)


def _stable_id(*parts: str) -> str:
    """Catalog ids that stay the same across restarts and processes for the same URL."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)).hex


def _service(kind: str, name: str, url: str, region: str) -> dict[str, Any]:
    endpoints = [
        {
            "id": _stable_id(url, kind, interface),
            "interface": interface,
            "region": region,
            "region_id": region,
            "url": url,
        }
        for interface in ("public", "internal", "admin")
    ]
    return {"type": kind, "name": name, "id": _stable_id(url, kind), "endpoints": endpoints}


def catalog(server_url: str, region: str) -> list[dict[str, Any]]:
    """The service catalog: the network API and this identity service, both unversioned.

    Clients append ``/v2.0`` to the network URL themselves, and find ``/v3`` under the identity
    URL by discovery (``GET /identity`` answers with the version list), as with devstack's
    ``http://host/identity``.
    """
    return [
        _service("network", "neutron", server_url, region),
        _service("identity", "keystone", f"{server_url}/identity", region),
    ]


def token_view(info: TokenInfo, *, server_url: str, region: str, with_catalog: bool) -> dict[str, Any]:
    """The body of a token response; scoped tokens carry project, roles and catalog."""
    token: dict[str, Any] = {
        "methods": list(info.methods),
        "user": {
            "id": info.user_id,
            "name": info.user_name,
            "domain": _named_domain(info.user_domain_id),
            "password_expires_at": None,
        },
        "audit_ids": list(info.audit_ids),
        "expires_at": _stamp(info.expires_at),
        "issued_at": _stamp(info.issued_at),
    }
    if info.project_id is not None:
        token["project"] = {
            "id": info.project_id,
            "name": info.project_name,
            "domain": _named_domain(info.project_domain_id or "default"),
        }
        token["is_domain"] = False
        token["roles"] = [{"id": role_id, "name": name} for role_id, name in info.roles]
        if with_catalog:
            token["catalog"] = catalog(server_url, region)
    return {"token": token}
