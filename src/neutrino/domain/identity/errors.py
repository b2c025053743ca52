"""Identity failures as Keystone reports them, and the checks of raw input values.

Keystone's error body is ``{"error": {"code", "title", "message"}}``, not Neutron's fault, so
identity has its own IdentityError instead of reusing neutrino.errors. Inputs arrive straight
from JSON or the command line, so the checks validate types themselves: 400 for a bad value.
"""

from __future__ import annotations

from typing import Any

AUTH_REQUIRED = "The request you have made requires authentication."
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
}


class IdentityError(Exception):
    """An identity failure with the HTTP status, title and message Keystone would report."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.status, "title": self.title, "message": self.message}}


def error(status: int, message: str) -> IdentityError:
    return IdentityError(status, TITLES[status], message)


def bad_request(message: str) -> IdentityError:
    return error(400, message)


def unauthorized(message: str = AUTH_REQUIRED) -> IdentityError:
    return error(401, message)


def forbidden(action: str) -> IdentityError:
    return error(403, f"You are not authorized to perform the requested action: {action}.")


def not_found(kind: str, ident: str) -> IdentityError:
    return error(404, f"Could not find {kind}: {ident}.")


def conflict(kind: str, name: str, domain_id: str | None = None) -> IdentityError:
    where = f" at domain ID {domain_id}" if domain_id else ""
    return error(
        409,
        f"Conflict occurred attempting to store {kind} - Duplicate entry found with name "
        f"{name}{where}.",
    )


# --- input checks ------------------------------------------------------------------------------


def name_value(value: object, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"Invalid input for field '{field}': a non-empty string is required.")
    if len(value) > limit:
        raise bad_request(f"Invalid input for field '{field}': longer than {limit} characters.")
    return value


def text_value(value: object, field: str, limit: int = 255) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise bad_request(
            f"Invalid input for field '{field}': a string of at most {limit} characters is required."
        )
    return value


def flag_value(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise bad_request(f"Invalid input for field '{field}': {value!r} is not a boolean.")
    return value
