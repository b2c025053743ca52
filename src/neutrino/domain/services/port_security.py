"""Port security: a port's security groups, ``port_security_enabled``, allowed address pairs
and extra DHCP options, as one port extension (plus the network hook for the default group).

Why one extension: these attributes constrain each other, as in Neutron's ML2 plugin. A port
without ``security_groups`` gets its project's ``default`` group, unless its owner is
``network:*`` (router, DHCP and floating IP ports are not filtered) or port security is off;
``port_security_enabled`` is inherited from the network. With port security off a port may
have neither groups (400, or 409 when they are already there) nor address pairs (409); as in
Neutron's ML2 a port without an address may have groups, but not stateful and stateless ones
together (409). Address pairs and DHCP options are validated by the pure
``secgroups`` modules; an update replaces the groups and the pairs but merges the options.
Everything runs inside the core port transaction, so a refusal leaves nothing behind.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from neutrino import errors
from neutrino.db.engine import connection_of
from neutrino.domain.context import Context
from neutrino.domain.models import (
    AllowedAddressPair,
    ExtraDhcpOpt,
    Network,
    Port,
    SecurityGroup,
    SecurityGroupPortBinding,
)
from neutrino.domain.models.base import new_id
from neutrino.domain.rbac import access
from neutrino.domain.secgroups import address_pairs, dhcp_opts
from neutrino.domain.config import DomainConfig
from neutrino.domain.services.extensions import Extension
from neutrino.domain.services.security_groups import ensure_default_security_group

BINDINGS = SecurityGroupPortBinding.__table__
PAIRS = AllowedAddressPair.__table__
OPTS = ExtraDhcpOpt.__table__
_NETWORK_PSEC = select(Network.port_security_enabled).where(Network.id == bindparam("id"))
_VIEW = "_port_security_view"
"""Attribute a just-created port carries its extension values in, so render needs no query."""


def is_trusted(device_owner: str | None) -> bool:
    """Ports the network itself owns (``network:*``) get no security groups."""
    return bool(device_owner) and str(device_owner).startswith("network:")


def _group_ids(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise errors.InvalidInput(error_message=f"'{value}' is not a list")
    for item in value:
        try:
            ok = isinstance(item, str) and uuid.UUID(item) is not None
        except ValueError:
            ok = False
        if not ok:
            raise errors.InvalidInput(error_message=f"'{item}' is not an integer or uuid")
    dups = [g for g in dict.fromkeys(value) if value.count(g) > 1]
    if dups:  # neutron-lib's type:uuid_list
        raise errors.HTTPBadRequest(
            msg=f"Invalid input for security_groups. Reason: Duplicate items in the list: '{', '.join(dups)}'."
        )
    return sorted(value)


def _visible_groups(session: Session, ctx: Context, project_id: str, wanted: list[str]) -> list[str]:
    """``wanted`` if each exists and the port's project may use it (an admin may use any)."""
    if not wanted:
        return []
    rows = session.execute(
        select(SecurityGroup.id, SecurityGroup.project_id, SecurityGroup.stateful).where(SecurityGroup.id.in_(wanted))
    )
    usable = {
        gid: stateful
        for gid, owner, stateful in rows
        if ctx.is_admin or not project_id or owner == project_id
        or access.has_grant(session, "security_group", gid, project_id)
    }
    missing = [g for g in wanted if g not in usable]
    if missing:
        raise errors.SecurityGroupNotFound(id=", ".join(missing))
    if len(set(usable.values())) > 1:
        # the firewall cannot both track and not track one port's connections
        raise errors.SecurityGroupConflict(
            reason="Cannot apply both stateful and stateless security groups on the same port at the same time"
        )
    return wanted


def _store(session: Session, port_id: str, groups: list[str], pairs: list[address_pairs.AddressPair],
           opts: dict[dhcp_opts.Key, str]) -> None:
    conn = session.connection()
    if groups:
        conn.execute(insert(BINDINGS), [{"port_id": port_id, "security_group_id": g} for g in groups])
    if pairs:
        conn.execute(insert(PAIRS), [{"port_id": port_id, **p.as_dict()} for p in pairs])
    if opts:
        conn.execute(
            insert(OPTS),
            [{"id": new_id(), "port_id": port_id, "opt_name": n, "opt_value": val, "ip_version": ver}
             for (n, ver), val in sorted(opts.items())],
        )


def _current(db: Session | Connection, ids: list[str]) -> tuple[
    dict[str, list[str]], dict[str, list[address_pairs.AddressPair]], dict[str, dict[dhcp_opts.Key, str]]
]:
    """Groups, pairs and options of many ports (one round trip each per 500 ports)."""
    conn = connection_of(db)
    groups: dict[str, list[str]] = defaultdict(list)
    pairs: dict[str, list[address_pairs.AddressPair]] = defaultdict(list)
    opts: dict[str, dict[dhcp_opts.Key, str]] = defaultdict(dict)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for pid, gid in conn.execute(select(BINDINGS).where(BINDINGS.c.port_id.in_(chunk))):
            groups[pid].append(gid)
        for pid, mac, ip in conn.execute(
            select(PAIRS.c.port_id, PAIRS.c.mac_address, PAIRS.c.ip_address).where(PAIRS.c.port_id.in_(chunk))
        ):
            pairs[pid].append(address_pairs.AddressPair(ip, mac))
        for pid, name, value, version in conn.execute(
            select(OPTS.c.port_id, OPTS.c.opt_name, OPTS.c.opt_value, OPTS.c.ip_version).where(
                OPTS.c.port_id.in_(chunk)
            )
        ):
            opts[pid][(name, version)] = value
    for values in groups.values():
        values.sort()
    for plist in pairs.values():
        plist.sort()
    return groups, pairs, opts


_NETWORK_OWNER = select(Network.project_id).where(Network.id == bindparam("id"))
# attributes Neutron's policy gives only to an admin or the network's owner
# (neutron/conf/policies/port.py: create_port:<attr> and update_port:<attr>, ADMIN_OR_NET_OWNER)
OWNER_ONLY = ("port_security_enabled", "allowed_address_pairs")


def ensure_network_owner_for(session: Session, ctx: Context, network_id: str, data: dict[str, Any], action: str) -> None:
    """On another project's shared network a project may not switch port security off or add
    address pairs, which would let it spoof addresses there: only an admin or the network's
    owner may set these attributes (403), as Neutron's default policy says. Any value given in
    the request counts, as in Neutron, where an explicitly set attribute is policy-checked."""
    given = [attr for attr in OWNER_ONLY if attr in data and data[attr] is not None]
    if not given or ctx.is_admin:
        return
    owner = session.connection().execute(_NETWORK_OWNER, {"id": network_id}).scalar()
    if owner is not None and owner != ctx.project_id:
        raise errors.PolicyNotAuthorized(action=f"(rule:{action} and rule:{action}:{given[0]})")


class PortSecurity(Extension):
    name = "port-security"
    filters = {
        "security_groups": lambda values: Port.id.in_(
            select(SecurityGroupPortBinding.port_id).where(SecurityGroupPortBinding.security_group_id.in_(values))
        ),
        "port_security_enabled": lambda values: Port.port_security_enabled.in_(values),
    }

    def after_create(self, session: Session, ctx: Context, cfg: DomainConfig, obj: Any, data: dict[str, Any]) -> None:
        ensure_network_owner_for(session, ctx, obj.network_id, data, "create_port")
        pairs = address_pairs.normalise(
            data.get("allowed_address_pairs"), max_pairs=cfg.max_allowed_address_pair, port_mac=obj.mac_address
        )
        opts = dhcp_opts.merge({}, dhcp_opts.parse(data.get("extra_dhcp_opts")))
        given = data.get("security_groups")
        wanted = _group_ids(given) if given is not None else None
        psec = data.get("port_security_enabled")
        if psec is None:
            found = session.connection().execute(_NETWORK_PSEC, {"id": obj.network_id}).scalar()
            psec = True if found is None else bool(found)
        if pairs and not psec:
            raise errors.AddressPairAndPortSecurityRequired()
        groups: list[str] = []
        if not is_trusted(obj.device_owner):
            if wanted and not psec:
                raise errors.PortSecurityAndIPRequiredForSecurityGroups()
            if wanted is not None:
                groups = _visible_groups(session, ctx, obj.project_id, wanted)
            elif psec:
                default = ensure_default_security_group(session, obj.project_id)
                groups = [default] if default else []
        if not psec:
            session.connection().execute(update(Port.__table__).where(Port.id == obj.id).values(port_security_enabled=False))
        _store(session, obj.id, groups, pairs, opts)
        obj.port_security_enabled = psec
        setattr(obj, _VIEW, (groups, pairs, opts))

    def before_update(self, session: Session, ctx: Context, cfg: DomainConfig, obj: Any, data: dict[str, Any]) -> bool:
        port: Port = obj
        ensure_network_owner_for(session, ctx, port.network_id, data, "update_port")
        trusted = is_trusted(port.device_owner)
        if not trusted:
            ensure_default_security_group(session, port.project_id)
        new_pairs = (
            address_pairs.normalise(
                data["allowed_address_pairs"], max_pairs=cfg.max_allowed_address_pair, port_mac=port.mac_address
            )
            if "allowed_address_pairs" in data
            else None
        )
        new_opts = dhcp_opts.parse(data["extra_dhcp_opts"]) if "extra_dhcp_opts" in data else None
        wanted = _group_ids(data["security_groups"] or []) if "security_groups" in data else None
        groups, pairs, opts = (d.get(port.id) for d in _current(session, [port.id]))
        groups, pairs, opts = groups or [], pairs or [], opts or {}
        psec = data.get("port_security_enabled", port.port_security_enabled)
        if not psec:
            if new_pairs or (new_pairs is None and pairs):
                raise errors.AddressPairAndPortSecurityRequired()
            if wanted:
                raise errors.PortSecurityAndIPRequiredForSecurityGroups()
            if wanted is None and groups:
                raise errors.PortSecurityPortHasSecurityGroup()
        changed = False
        conn = session.connection()
        if wanted is not None:
            if trusted:
                wanted = []
            if wanted != groups:
                _visible_groups(session, ctx, port.project_id, wanted)
                conn.execute(delete(BINDINGS).where(BINDINGS.c.port_id == port.id))
                _store(session, port.id, wanted, [], {})
                changed = True
        if psec != port.port_security_enabled:
            port.port_security_enabled = psec
            changed = True
        if new_pairs is not None and new_pairs != pairs:
            conn.execute(delete(PAIRS).where(PAIRS.c.port_id == port.id))
            _store(session, port.id, [], new_pairs, {})
            changed = True
        if new_opts is not None:
            merged = dhcp_opts.merge(opts, new_opts)
            if merged != opts:
                conn.execute(delete(OPTS).where(OPTS.c.port_id == port.id))
                _store(session, port.id, [], [], merged)
                changed = True
        return changed

    def render(self, db: Session | Connection, rows: list[Any], dicts: list[dict[str, Any]]) -> None:
        missing = [r.id for r in rows if not hasattr(r, _VIEW)]
        groups, pairs, opts = _current(db, missing) if missing else ({}, {}, {})
        psec = {}
        if any(getattr(r, "port_security_enabled", None) is None for r in rows):
            psec = dict(connection_of(db).execute(
                select(Port.id, Port.port_security_enabled).where(Port.id.in_([r.id for r in rows]))
            ).all())
        for row, d in zip(rows, dicts, strict=True):
            view = getattr(row, _VIEW, None)
            g, p, o = view if view is not None else (groups.get(row.id, []), pairs.get(row.id, []), opts.get(row.id, {}))
            enabled = getattr(row, "port_security_enabled", None)
            d["port_security_enabled"] = psec.get(row.id, True) if enabled is None else enabled
            d["security_groups"] = list(g)
            d["allowed_address_pairs"] = [x.as_dict() for x in p]
            d["extra_dhcp_opts"] = [
                {"opt_name": n, "opt_value": val, "ip_version": ver} for (n, ver), val in sorted(o.items())
            ]


class DefaultSecurityGroupOnNetwork(Extension):
    """Creating a network creates its project's default group (Neutron does the same)."""

    name = "default-security-group"

    def after_create(self, session: Session, ctx: Context, cfg: DomainConfig, obj: Any, data: dict[str, Any]) -> None:
        ensure_default_security_group(session, obj.project_id)
