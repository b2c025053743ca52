"""DNS attributes of networks and ports (``dns-integration``, ``dns-domain-ports``) as
extension hooks: a network's ``dns_domain``; a port's ``dns_name``, ``dns_domain`` and
the computed ``dns_assignment``. The rules are Neutron's, in the pure ``domain.dns_names``.

Without an external DNS service (neutrino has none) a port's names are only recorded and
served by the DHCP agent's dnsmasq (the hostname an instance gets, and the names dnsmasq
answers); under the default server ``dns_domain`` (``openstacklocal``) a requested ``dns_name``
or ``dns_domain`` of a port is dropped, as Neutron does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.by_ids import ByIds
from neutrino.db.engine import connection_of
from neutrino.domain import dns_names
from neutrino.domain.context import Context
from neutrino.domain.models import NetworkDNSDomain, PortDNS
from neutrino.domain.services.extensions import Extension
from neutrino.domain.wiring import Domain

DNS_NAME = "dns_name"
DNS_DOMAIN = "dns_domain"

_NET_DOMAINS = ByIds(lambda cond: select(NetworkDNSDomain.network_id, NetworkDNSDomain.dns_domain)
                     .where(cond(NetworkDNSDomain.network_id)))  # fmt: skip
_PORT_NAMES = ByIds(lambda cond: select(PortDNS.port_id, PortDNS.dns_name, PortDNS.dns_domain)
                    .where(cond(PortDNS.port_id)))  # fmt: skip


def _invalid(attr: str, reason: str) -> errors.HTTPBadRequest:
    return errors.HTTPBadRequest(msg=f"Invalid input for {attr}. Reason: {reason}.")


class NetworkDNSDomainExtension(Extension):
    name = "dns-integration (networks)"

    def after_create(self, session: Session, ctx: Context, cfg: Domain, obj: Any, data: dict[str, Any]) -> None:
        if data.get(DNS_DOMAIN):
            session.add(NetworkDNSDomain(network_id=obj.id, dns_domain=data[DNS_DOMAIN]))
            session.flush()

    def before_update(self, session: Session, ctx: Context, cfg: Domain, obj: Any, data: dict[str, Any]) -> bool:
        if DNS_DOMAIN not in data:
            return False
        wanted = data[DNS_DOMAIN] or ""
        row = session.get(NetworkDNSDomain, obj.id)
        if (row.dns_domain if row else "") == wanted:
            return False
        if row is not None and wanted:
            row.dns_domain = wanted
        elif row is not None:
            session.delete(row)
        else:
            session.add(NetworkDNSDomain(network_id=obj.id, dns_domain=wanted))
        session.flush()
        return True

    def render(self, db: Session | Connection, rows: list[Any], dicts: list[dict[str, Any]]) -> None:
        found = dict(_NET_DOMAINS.rows(connection_of(db), [r.id for r in rows]))
        for row, d in zip(rows, dicts, strict=True):
            d[DNS_DOMAIN] = found.get(row.id, "")


class PortDNSExtension(Extension):
    """``dns_name`` checked against the server's ``dns_domain`` (which a plain attribute
    validator cannot see); ``dns_assignment`` built from the port's fixed IPs."""

    name = "dns-integration (ports)"

    def __init__(self, server_dns_domain: str) -> None:
        self.configured = server_dns_domain

    def _check(self, data: dict[str, Any]) -> None:
        reason = dns_names.validate_name(data.get(DNS_NAME) or "", self.configured)
        if reason:
            raise _invalid(DNS_NAME, reason)

    def after_create(self, session: Session, ctx: Context, cfg: Domain, obj: Any, data: dict[str, Any]) -> None:
        self._check(data)
        name, domain = data.get(DNS_NAME) or "", data.get(DNS_DOMAIN) or ""
        if (name or domain) and dns_names.names_honoured(self.configured):
            session.add(PortDNS(port_id=obj.id, dns_name=name, dns_domain=domain))
            session.flush()

    def before_update(self, session: Session, ctx: Context, cfg: Domain, obj: Any, data: dict[str, Any]) -> bool:
        if DNS_NAME not in data and DNS_DOMAIN not in data:
            return False
        self._check(data)
        if not dns_names.names_honoured(self.configured):
            return False
        row = session.get(PortDNS, obj.id)
        if row is None:
            row = PortDNS(port_id=obj.id, dns_name="", dns_domain="")
            session.add(row)
        changed = False
        for key in (DNS_NAME, DNS_DOMAIN):
            if key in data and getattr(row, key) != (data[key] or ""):
                setattr(row, key, data[key] or "")
                changed = True
        session.flush()
        return changed

    def render(self, db: Session | Connection, rows: list[Any], dicts: list[dict[str, Any]]) -> None:
        found = {
            port_id: (name, domain)
            for port_id, name, domain in _PORT_NAMES.rows(connection_of(db), [r.id for r in rows])
        }
        for row, d in zip(rows, dicts, strict=True):
            name, domain = found.get(row.id, ("", ""))
            d[DNS_NAME] = name
            d[DNS_DOMAIN] = domain
            ips = [f["ip_address"] for f in d.get("fixed_ips", [])]
            d["dns_assignment"] = dns_names.assignment(ips, name, self.configured)

