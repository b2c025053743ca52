"""DNS names of ports and domains of networks (``dns-integration``, ``dns-domain-ports``): pure.

Neutron's rules (docs/neutron-behaviour.md, "DNS"): a name is checked label by label (RFC 1123:
1-63 of ``a-z0-9-``, no hyphen at either end, a TLD not all digits, 255 characters at most);
a domain must end with a dot. A port's ``dns_name`` is honoured only when the server's
``dns_domain`` is set and is not the default ``openstacklocal.``: otherwise it is dropped and the
port's hostname is ``host-<ip with dashes>``. A relative name plus the server's domain must fit
in 255 characters; an absolute name (trailing dot) must end with the server's domain.
``dns_assignment`` is one ``{hostname, ip_address, fqdn}`` per fixed IP, built with the server's
``dns_domain`` (a network's or port's own ``dns_domain`` is for an external DNS service only).
A floating IP's ``dns_name`` and ``dns_domain`` are checked and, without an external DNS
service (neutrino has none), not kept: they read as ''.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

FQDN_MAX = 255
DEFAULT_DOMAIN = "openstacklocal."
KEYWORDS = ("project_id", "project_name", "user_name", "user_id")
_LABEL = re.compile(r"^([a-z0-9-]{1,63}|" + "|".join(f"<{k}>" for k in KEYWORDS) + ")$")
"""A label, or one of the keywords an external DNS service would replace (neutron-lib's
``DNS_LABEL_REGEX``, which accepts them whether or not a keyword extension is loaded)."""


def server_domain(configured: str) -> str:
    """The server's ``dns_domain`` setting with its trailing dot ('' when unset)."""
    if not configured:
        return ""
    return configured if configured.endswith(".") else configured + "."


def names_honoured(configured: str) -> bool:
    """Whether ports may carry a ``dns_name`` under this server setting."""
    domain = server_domain(configured)
    return bool(domain) and domain != DEFAULT_DOMAIN


def _format_error(data: str, max_len: int = FQDN_MAX) -> str | None:
    trimmed = data[:-1] if data.endswith(".") else data
    if len(trimmed) > max_len:
        reason = f"'{trimmed}' exceeds the {max_len} character FQDN limit"
    else:
        reason = None
        labels = trimmed.split(".")
        for label in labels:
            if not label:
                reason = "Encountered an empty component"
            elif label.startswith("-") or label.endswith("-"):
                reason = f"Name '{label}' must not start or end with a hyphen"
            elif not _LABEL.match(label):
                reason = f"Name '{label}' must be 1-63 characters long, each of which can only be alphanumeric or a hyphen"
            if reason:
                break
        if reason is None and len(labels) > 1 and labels[-1].isdigit():
            reason = f"TLD '{labels[-1]}' must not be all numeric"
    return f"'{data}' not a valid PQDN or FQDN. Reason: {reason}" if reason else None


def lower(value: Any) -> Any:
    """Neutron's ``convert_string_to_case_insensitive``: strings compare and store lower-case."""
    return value.lower() if isinstance(value, str) else value


def validate_domain(data: Any, max_len: int | None = FQDN_MAX) -> str | None:
    """A network's or port's ``dns_domain``: '' or an absolute name with room for a label."""
    max_len = max_len or FQDN_MAX
    if not isinstance(data, str):
        return f"'{data}' is not a valid string"
    if not data:
        return None
    if not data.endswith("."):
        return f"'{data}' is not a FQDN"
    found = _format_error(data, max_len)
    if found:
        return found
    if len(data) > max_len - 2:
        return (
            f"'{data}' contains {len(data)} characters. Adding a sub-domain will cause it to exceed "
            f"the maximum length of a FQDN of '{max_len}'"
        )
    return None


def validate_fip_name(data: Any, max_len: int | None = FQDN_MAX) -> str | None:
    """A floating IP's ``dns_name``: a relative name with room for a domain."""
    max_len = max_len or FQDN_MAX
    if not isinstance(data, str):
        return f"'{data}' is not a valid string"
    if not data:
        return None
    if data.endswith("."):
        return f"'{data}' is a FQDN. It should be a relative domain name"
    found = _format_error(data, max_len)
    if found:
        return found
    if len(data) > max_len - 3:
        return (
            f"'{data}' contains {len(data)} characters. Adding a domain name will cause it to exceed the "
            f"maximum length of a FQDN of '{max_len}'"
        )
    return None


def validate_name(data: Any, configured: str) -> str | None:
    """A port's ``dns_name`` under the server's ``dns_domain`` setting ``configured``."""
    if not isinstance(data, str):
        return f"'{data}' is not a valid string"
    if not data:
        return None
    found = _format_error(data)
    if found or not names_honoured(configured):
        return found
    domain = server_domain(configured)
    higher = f".{domain}"
    if not data.endswith("."):
        if len(data) + len(higher) > FQDN_MAX:
            return (
                f"The dns_name passed is a PQDN and its size is '{len(data)}'. The dns_domain option in "
                f"neutron.conf is set to {configured}, with a length of '{len(higher)}'. When the two are "
                "concatenated to form a FQDN (with a '.' at the end), the resulting length exceeds the "
                f"maximum size of '{FQDN_MAX}'"
            )
        return None
    if len(data) <= len(higher) or not data.endswith(higher):
        return (
            "The dns_name passed is a FQDN. Its higher level labels must be equal to the dns_domain "
            f"option in neutron.conf, that has been set to '{configured}'. It must also include one or "
            f"more valid DNS labels to the left of '{configured}'"
        )
    return None


def default_hostname(ip_address: str) -> str:
    return "host-" + ip_address.replace(".", "-").replace(":", "-")


def assignment(ip_addresses: Iterable[str], dns_name: str, configured: str) -> list[dict[str, str]]:
    """A port's ``dns_assignment``: its name (when honoured) or ``host-<ip>``, per address."""
    domain = server_domain(configured)
    name = dns_name if names_honoured(configured) else ""
    out = []
    for ip in ip_addresses:
        if name:
            hostname = name
            fqdn = name if name.endswith(".") else f"{name}.{domain}"
        else:
            hostname = default_hostname(ip)
            fqdn = f"{hostname}.{domain}" if domain else hostname
        out.append({"hostname": hostname, "ip_address": ip, "fqdn": fqdn})
    return out
