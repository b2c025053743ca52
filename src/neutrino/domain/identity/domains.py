"""Domains: one fixed domain, as in a stock Keystone install."""

from __future__ import annotations

from dataclasses import dataclass

from neutrino.domain.identity.errors import bad_request, not_found


@dataclass(frozen=True)
class Domain:
    id: str
    name: str
    description: str = ""
    enabled: bool = True


DEFAULT_DOMAIN = Domain("default", "Default", "The default domain")
DOMAINS: tuple[Domain, ...] = (DEFAULT_DOMAIN,)


def find_domain(*, domain_id: str | None = None, name: str | None = None) -> Domain | None:
    """The domain with this id (or else this name), None if there is none."""
    for domain in DOMAINS:
        if (domain_id is not None and domain.id == domain_id) or (
            domain_id is None and name is not None and domain.name == name
        ):
            return domain
    return None


def get_domain(domain_id: str) -> Domain:
    domain = find_domain(domain_id=domain_id)
    if domain is None:
        raise not_found("domain", domain_id)
    return domain


def list_domains(*, name: str | None = None) -> list[Domain]:
    return [d for d in DOMAINS if name is None or d.name == name]


def existing_domain_id(domain_id: object) -> str:
    if not isinstance(domain_id, str) or find_domain(domain_id=domain_id) is None:
        raise bad_request(f"Could not find domain: {domain_id}.")
    return domain_id
