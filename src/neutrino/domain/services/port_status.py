"""Port status: DOWN until every agent that must wire the port has said it did.

Neutron's provisioning blocks (docs/neutron-behaviour.md, "Provisioning blocks"): when a port is bound, the L2 agent gets a block
(``L2``), and so does DHCP (``DHCP``) when a DHCP agent serves the network and the port has an
address on a DHCP-enabled subnet. Each agent completes its block (``device_up``,
``dhcp_ready``); once none remain the port becomes ACTIVE, if it is administratively up and
bound. ``device_down`` sets it DOWN again. Completion locks the port row (PostgreSQL) so that
two agents reporting at once cannot both see the other's block and leave the port DOWN.
A pass's reports come as one list (``devices_up``, ``dhcp_ready``), completed in a fixed number
of statements whatever its length (rows locked in id order, so two reporters cannot deadlock):
an agent wiring 500 ports used to cost six statements per port.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, bindparam, delete, exists, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from neutrino.domain.models import (
    IPAllocation,
    NetworkDhcpAgentBinding,
    Port,
    PortBinding,
    ProvisioningBlock,
    Subnet,
)
from neutrino.domain.models.base import utcnow
from neutrino.domain.config import DomainConfig
from neutrino.domain.services.extensions import Extension

L2, DHCP = "L2", "DHCP"
ACTIVE, DOWN = "ACTIVE", "DOWN"
ACTIVATED = "neutrino.ports_activated"
"""Key in ``Session.info``: ports this transaction turned ACTIVE (the server's metrics read it)."""
UNBOUND_VIF_TYPES = ("unbound", "binding_failed")

# owners whose ports nobody blocks on the L2 agent for (Neutron's no-provisioning-block list)
NO_L2_BLOCK_OWNERS = frozenset(
    {
        "",
        "network:router_interface",
        "network:router_interface_distributed",
        "network:ha_router_replicated_interface",
        "network:router_gateway",
        "network:router_centralized_snat",
        "network:router_ha_interface",
        "network:dhcp",
        "network:floatingip",
        "network:floatingip_agent_gateway",
    }
)
# owners the DHCP agent writes no host entry for (port_requires_dhcp_configuration)
NO_DHCP_OWNERS = frozenset({"network:dhcp", "network:floatingip", "network:router_ha_interface", "network:distributed"})

PORTS = Port.__table__
BLOCKS = ProvisioningBlock.__table__


# --- pure bookkeeping -------------------------------------------------------------------------


def blocks_for(device_owner: str, *, status: str, dhcp_hosted: bool, has_dhcp_address: bool) -> set[str]:
    """The entities that must report a freshly bound port wired before it is ACTIVE."""
    if status == ACTIVE:
        return set()  # already wired: nothing to wait for
    wanted = set()
    if device_owner not in NO_L2_BLOCK_OWNERS:
        wanted.add(L2)
    if dhcp_hosted and has_dhcp_address and device_owner not in NO_DHCP_OWNERS:
        wanted.add(DHCP)
    return wanted


def status_when_complete(current: str, *, remaining: Iterable[str], admin_state_up: bool, bound: bool) -> str:
    """The status after an entity completed: ACTIVE once nothing blocks an enabled, bound port."""
    if any(True for _ in remaining) or not admin_state_up or not bound:
        return current
    return ACTIVE


# --- database ---------------------------------------------------------------------------------

_BOUND_FACTS = select(
    select(PORTS.c.status).where(PORTS.c.id == bindparam("port_id")).scalar_subquery().label("status"),
    exists().where(NetworkDhcpAgentBinding.network_id == bindparam("network_id")).label("dhcp_hosted"),
    exists()
    .where(
        IPAllocation.port_id == bindparam("port_id"),
        IPAllocation.subnet_id == Subnet.id,
        Subnet.enable_dhcp.is_(True),
    )
    .label("has_dhcp_address"),
)
_PORT_FOR_UPDATE = (
    select(PORTS.c.status, PORTS.c.admin_state_up).where(PORTS.c.id == bindparam("port_id")).with_for_update()
)
_BINDING = select(PortBinding.host, PortBinding.vif_type).where(PortBinding.port_id == bindparam("port_id"))
_REMAINING = select(BLOCKS.c.entity).where(BLOCKS.c.resource_id == bindparam("port_id"))


def _insert_ignoring_existing(session: Session, rows: list[dict[str, str]]) -> None:
    """An insert that skips the rows already there, in the dialect's own words.

    PostgreSQL's dialect is imported here, not with the module: a server on SQLite never
    loads it otherwise, and it is 2 MiB of the server's memory (docs/conformance.md)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        stmt: Any = postgresql.insert(BLOCKS).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(BLOCKS).on_conflict_do_nothing()
    else:
        present = set(session.scalars(_REMAINING, {"port_id": rows[0]["resource_id"]}))
        rows = [r for r in rows if r["entity"] not in present]
        stmt = BLOCKS.insert()
    if rows:
        session.execute(stmt, rows)


def add_blocks(session: Session, port_id: str, entities: Iterable[str]) -> None:
    """Make ``entities`` block the port (blocks already there stay as they are)."""
    rows = [{"resource_id": port_id, "entity": e} for e in dict.fromkeys(entities)]
    if rows:
        _insert_ignoring_existing(session, rows)


def blocks_of(session: Session, port_id: str) -> set[str]:
    return set(session.scalars(_REMAINING, {"port_id": port_id}))


def on_port_bound(session: Session, cfg: DomainConfig, port_id: str, network_id: str, device_owner: str) -> set[str]:
    """Called by port binding after a successful bind (in its transaction): adds the blocks
    the port must wait for and returns them. One query plus one insert: this is on the path of
    every port create with a host."""
    facts = session.execute(_BOUND_FACTS, {"port_id": port_id, "network_id": network_id}).one()
    wanted = blocks_for(
        device_owner,
        status=facts.status or DOWN,
        dhcp_hosted=bool(facts.dhcp_hosted),
        has_dhcp_address=bool(facts.has_dhcp_address),
    )
    add_blocks(session, port_id, sorted(wanted))
    return wanted


def _set_status(session: Session, port_id: str, status: str) -> None:
    session.execute(
        update(PORTS)
        .where(PORTS.c.id == port_id, PORTS.c.status != status)
        .values(status=status, revision_number=PORTS.c.revision_number + 1, updated_at=utcnow())
    )


def _complete(session: Session, port_id: str, entity: str, port: Any) -> str:
    session.execute(delete(BLOCKS).where(BLOCKS.c.resource_id == port_id, BLOCKS.c.entity == entity))
    binding = session.execute(_BINDING, {"port_id": port_id}).first()
    bound = binding is not None and binding.vif_type not in UNBOUND_VIF_TYPES
    new = status_when_complete(
        port.status,
        remaining=session.scalars(_REMAINING, {"port_id": port_id}),
        admin_state_up=port.admin_state_up,
        bound=bound,
    )
    _set_status(session, port_id, new)
    if new == ACTIVE and port.status != ACTIVE:  # for the create -> ACTIVE metric (bus/server.py)
        session.info.setdefault(ACTIVATED, []).append(port_id)
    return new


def already_up(session: Session, port_ids: Iterable[str], host: str) -> set[str]:
    """Of ``port_ids``, those a ``device_up`` from ``host`` would leave exactly as they are:
    ACTIVE, enabled, bound to ``host`` and blocked by nothing. One query per 500 ids: a
    restarted agent reports every port it wired again, and those are nearly all of them."""
    ids, out = list(dict.fromkeys(port_ids)), set()
    for start in range(0, len(ids), 500):
        query = (
            select(PORTS.c.id)
            .join(PortBinding.__table__, PortBinding.port_id == PORTS.c.id)
            .where(PORTS.c.id.in_(ids[start : start + 500]), PORTS.c.status == ACTIVE, PORTS.c.admin_state_up.is_(True),
                   PortBinding.host == host, PortBinding.vif_type.not_in(UNBOUND_VIF_TYPES),
                   ~exists().where(BLOCKS.c.resource_id == PORTS.c.id))  # fmt: skip
        )
        out.update(session.scalars(query))
    return out


def device_up(session: Session, cfg: DomainConfig, *, port_id: str, host: str, entity: str = L2) -> str | None:
    """An agent on ``host`` reports the port wired. Returns the port's status afterwards, or
    None when the port does not exist or is not bound to that host (the report is ignored)."""
    port = session.execute(_PORT_FOR_UPDATE, {"port_id": port_id}).first()
    if port is None:
        return None
    binding = session.execute(_BINDING, {"port_id": port_id}).first()
    if binding is None or binding.host != host:
        return None
    return _complete(session, port_id, entity, port)


CHUNK = 500
"""Ports per statement of a batch (an IN list well under every database's parameter limit)."""


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]


def _lock_ports(session: Session, port_ids: Iterable[str]) -> dict[str, Any]:
    """port id -> (id, status, admin_state_up) of those that exist, locked in id order."""
    out: dict[str, Any] = {}
    for chunk in _chunks(sorted(set(port_ids))):
        query = select(PORTS.c.id, PORTS.c.status, PORTS.c.admin_state_up).where(PORTS.c.id.in_(chunk))
        out.update((row.id, row) for row in session.execute(query.order_by(PORTS.c.id).with_for_update()))
    return out


def _complete_many(session: Session, entity: str, ports: dict[str, Any]) -> dict[str, str]:
    """``_complete`` for many locked ports (``_lock_ports``) at once: port id -> new status."""
    ids = sorted(ports)
    bound: set[str] = set()
    blocked: set[str] = set()
    for chunk in _chunks(ids):
        session.execute(delete(BLOCKS).where(BLOCKS.c.resource_id.in_(chunk), BLOCKS.c.entity == entity))
        bindings = session.execute(select(PortBinding.port_id, PortBinding.vif_type).where(PortBinding.port_id.in_(chunk)))
        bound |= {row.port_id for row in bindings if row.vif_type not in UNBOUND_VIF_TYPES}
        blocked |= set(session.scalars(select(BLOCKS.c.resource_id).where(BLOCKS.c.resource_id.in_(chunk))))
    out: dict[str, str] = {}
    changed: dict[str, list[str]] = {}
    for pid in ids:
        port = ports[pid]
        new = status_when_complete(port.status, remaining=[pid] if pid in blocked else [],
                                   admin_state_up=port.admin_state_up, bound=pid in bound)  # fmt: skip
        out[pid] = new
        if new != port.status:
            changed.setdefault(new, []).append(pid)
    for status, pids in changed.items():
        for chunk in _chunks(pids):
            session.execute(
                update(PORTS)
                .where(PORTS.c.id.in_(chunk), PORTS.c.status != status)
                .values(status=status, revision_number=PORTS.c.revision_number + 1, updated_at=utcnow())
            )
        if status == ACTIVE:  # for the create -> ACTIVE metric (bus/server.py)
            session.info.setdefault(ACTIVATED, []).extend(pids)
    return out


def devices_up(session: Session, cfg: DomainConfig, host: str, port_ids: Iterable[str], entity: str = L2) -> dict[str, str]:
    """``device_up`` for a pass's list: port id -> status afterwards, for the ports that exist
    and are bound to ``host`` (reports of others are ignored)."""
    ports = _lock_ports(session, port_ids)
    hosts: dict[str, str] = {}
    for chunk in _chunks(sorted(ports)):
        rows = session.execute(select(PortBinding.port_id, PortBinding.host).where(PortBinding.port_id.in_(chunk)))
        hosts.update((row.port_id, row.host) for row in rows)
    return _complete_many(session, entity, {pid: row for pid, row in ports.items() if hosts.get(pid) == host})


def device_down(session: Session, cfg: DomainConfig, *, port_id: str, host: str) -> bool:
    """An agent on ``host`` reports the port unwired: DOWN. Returns whether the port exists
    (Neutron's ``exists``); a report from a host the port is not bound to changes nothing."""
    port = session.execute(_PORT_FOR_UPDATE, {"port_id": port_id}).first()
    if port is None:
        return False
    binding = session.execute(_BINDING, {"port_id": port_id}).first()
    if binding is not None and binding.host == host:
        _set_status(session, port_id, DOWN)
    return True


def dhcp_ready(session: Session, port_ids: Iterable[str]) -> dict[str, str]:
    """The DHCP agent has the ports in its configuration; returns {port id: status} for the
    ports that exist."""
    return _complete_many(session, DHCP, _lock_ports(session, port_ids))


# --- cleanup: blocks have no foreign key (Neutron keys them by standard attribute) -------------


class PortBlocksCleanup(Extension):
    """A deleted port's blocks go with it."""

    name = "provisioning-blocks"

    def delete_probe(self, table: Table) -> ColumnElement[bool]:
        return exists().where(BLOCKS.c.resource_id == table.c.id)

    def before_delete(self, session: Session, ctx: Any, cfg: DomainConfig, obj: Any) -> None:
        session.execute(delete(BLOCKS).where(BLOCKS.c.resource_id == obj.id))


class NetworkBlocksCleanup(Extension):
    """Ports deleted with their network (DHCP ports) lose their blocks too."""

    name = "provisioning-blocks"

    def before_delete(self, session: Session, ctx: Any, cfg: DomainConfig, obj: Any) -> None:
        ports = select(PORTS.c.id).where(PORTS.c.network_id == obj.id)
        session.execute(delete(BLOCKS).where(BLOCKS.c.resource_id.in_(ports)))

