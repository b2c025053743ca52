"""Errors of ``GET /v2.0/trace`` (an extension of this project, docs/trace.md)."""

from __future__ import annotations

from neutrino.errors.base import BadRequest


class TraceNotPossible(BadRequest):
    """FROM or TO names nothing or several things, or the two have no possible path."""

    template = "%(msg)s"
