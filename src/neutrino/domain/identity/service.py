"""Identity operations on the store: authentication, scoping, projects, users, roles, grants.

Every function takes the caller's Session and runs inside the caller's transaction, so the API,
the CLI and bootstrap compose them freely. Inputs arrive straight from JSON or the command line,
so the functions validate types themselves and fail with Keystone's status codes: 400 for a bad
value, 401 for anything that fails authentication (without saying which part was wrong), 404
for an unknown id, 409 for a duplicate name.

One module per responsibility, gathered here for callers (``service.create_user``): ``errors``
(IdentityError and input checks), ``domains``, ``authn`` (authentication and scope),
``records`` (the shape projects and users share), ``projects``, ``users``, ``roles``.
"""

from __future__ import annotations

from neutrino.domain.identity.errors import (
    IdentityError,
    error,
    bad_request,
    unauthorized,
    forbidden,
    not_found,
    conflict,
    name_value,
    text_value,
    flag_value,
    AUTH_REQUIRED,
    TITLES,
)
from neutrino.domain.identity.domains import (
    Domain,
    find_domain,
    get_domain,
    list_domains,
    existing_domain_id,
    DEFAULT_DOMAIN,
    DOMAINS,
)
from neutrino.domain.identity.authn import (
    lookup_user,
    verify_user_password,
    authenticate_password,
    roles_on_project,
    resolve_project_scope,
    default_project,
)
from neutrino.domain.identity.projects import (
    create_project,
    get_project,
    find_project,
    list_projects,
    update_project,
    delete_project,
)
from neutrino.domain.identity.users import (
    create_user,
    get_user,
    find_user,
    list_users,
    update_user,
    change_password,
    delete_user,
)
from neutrino.domain.identity.roles import (
    create_role,
    list_roles,
    get_role,
    find_role,
    assign_role,
    check_role_assignment,
    unassign_role,
    list_user_project_roles,
    list_user_projects,
    Assignment,
    list_role_assignments,
)

__all__ = [
    "IdentityError",
    "error",
    "bad_request",
    "unauthorized",
    "forbidden",
    "not_found",
    "conflict",
    "name_value",
    "text_value",
    "flag_value",
    "AUTH_REQUIRED",
    "TITLES",
    "Domain",
    "find_domain",
    "get_domain",
    "list_domains",
    "existing_domain_id",
    "DEFAULT_DOMAIN",
    "DOMAINS",
    "lookup_user",
    "verify_user_password",
    "authenticate_password",
    "roles_on_project",
    "resolve_project_scope",
    "default_project",
    "create_project",
    "get_project",
    "find_project",
    "list_projects",
    "update_project",
    "delete_project",
    "create_user",
    "get_user",
    "find_user",
    "list_users",
    "update_user",
    "change_password",
    "delete_user",
    "create_role",
    "list_roles",
    "get_role",
    "find_role",
    "assign_role",
    "check_role_assignment",
    "unassign_role",
    "list_user_project_roles",
    "list_user_projects",
    "Assignment",
    "list_role_assignments",
]
