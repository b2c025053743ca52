"""The base of every Neutron-format error and one class per HTTP status.

``NeutronError`` carries the fault ``type`` (the class name, as in Neutron, so clients that
branch on it see the names they expect), a message from neutron-lib's template and ``status``.
"""

from __future__ import annotations


class NeutronError(Exception):
    """Base of every error the API reports in Neutron's fault format."""

    status = 500
    template = "An unknown exception occurred."

    def __init__(self, message: str | None = None, **kwargs: object) -> None:
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.template % kwargs
            except (KeyError, TypeError):
                message = self.template
        self.message = message
        super().__init__(message)

    @property
    def type(self) -> str:
        return type(self).__name__


# --- base classes, by HTTP status -------------------------------------------------------------


class BadRequest(NeutronError):
    status = 400
    template = "Bad %(resource)s request: %(msg)s."


class HTTPBadRequest(BadRequest):
    """Request-shape errors; Neutron raises these as webob exceptions, hence the name."""

    template = "%(msg)s"


class InvalidInput(BadRequest):
    template = "Invalid input for operation: %(error_message)s."


class NotAuthorized(NeutronError):
    status = 403
    template = "Not authorized."


class PolicyNotAuthorized(NotAuthorized):
    template = "%(action)s is disallowed by policy"


class NotFound(NeutronError):
    status = 404
    template = "An unknown exception occurred."


class HTTPNotFound(NotFound):
    template = "%(msg)s"


class Conflict(NeutronError):
    status = 409


class InUse(Conflict):
    template = "The resource is in use."


class PreconditionFailed(NeutronError):
    status = 412


class ServiceUnavailable(NeutronError):
    status = 503


class NotImplementedFault(NeutronError):
    status = 501
    template = "Not implemented."
