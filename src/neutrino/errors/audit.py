"""Errors of ``GET /v2.0/audit`` (an extension of this project, docs/audit.md)."""

from __future__ import annotations

from neutrino.errors.base import BadRequest, Conflict, NotFound


class AuditHostNotFound(NotFound):
    template = "No agent has ever reported from host %(host)s."


class AuditRepairRefused(Conflict):
    """A repair needs the host's agent: nothing else may change its dataplane."""

    template = "Cannot repair %(host)s: %(why)s; start its agent first (it repairs at start)."


class AuditBadQuery(BadRequest):
    template = "%(msg)s"
