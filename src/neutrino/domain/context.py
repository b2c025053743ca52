"""Who is asking: the request context every service function receives.

Policy in neutrino is Neutron's default policy reduced to what the API needs: an admin sees and
changes everything; a member sees its project's resources and shared networks; a reader may
only read. Resources of another project are reported as not found, so existence does not leak.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

from neutrino import errors


@dataclass(frozen=True)
class Context:
    project_id: str | None
    user_id: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    is_admin: bool = False
    project_name: str | None = None
    user_name: str | None = None

    @classmethod
    def admin(cls, project_id: str | None = None) -> Context:
        return cls(project_id=project_id, roles=frozenset({"admin", "member", "reader"}), is_admin=True)

    @property
    def can_write(self) -> bool:
        return self.is_admin or "member" in self.roles or "admin" in self.roles

    def require_write(self, action: str) -> None:
        if not self.can_write:
            raise errors.PolicyNotAuthorized(action=f"rule:{action}")

    def owns(self, project_id: str | None) -> bool:
        return self.is_admin or (project_id is not None and project_id == self.project_id)


_CURRENT: ContextVar[Context | None] = ContextVar("neutrino_request_context", default=None)


def set_current(ctx: Context | None) -> None:
    """Make ``ctx`` the caller of the running API request (its task, and the worker threads
    it starts, which copy the task's context)."""
    _CURRENT.set(ctx)


def current() -> Context | None:
    """Who the running API request acts for, for renderers that hide attributes by policy
    (provider and binding attributes are admin-only). None outside a request (services called
    directly, internal computations): nothing is hidden there."""
    return _CURRENT.get()
