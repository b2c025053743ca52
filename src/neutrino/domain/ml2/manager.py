"""Find, order and call the ML2 drivers.

Drivers are Python entry points: group ``neutrino.ml2.type_drivers`` (name = network type)
and ``neutrino.ml2.mechanism_drivers``; a package that declares one adds a driver. The
configuration (``type_drivers``, ``mechanism_drivers``, ``tenant_network_types``) names which
are used and in what order; a name nothing provides, or a bad range option, stops the server
at start with a message saying which. One Manager exists per configuration.

Mechanism hooks fan out in the configured order: ``*_precommit`` at once (inside the caller's
transaction), ``*_postcommit`` after that transaction commits (never if it rolls back).
Binding tries the drivers in order over the network's segments, level by level.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from neutrino import errors
from neutrino.db.engine import run_in_transaction
from neutrino.entrypoints import EntryPoints, LoadError, installed_entry_points, load_classes
from neutrino.domain.ml2.api import (
    HOOKS,
    MAX_BINDING_LEVELS,
    VIF_TYPE_BINDING_FAILED,
    Binding,
    MechanismDriver,
    PortContext,
    Segment,
    TypeDriver,
)
from neutrino.domain.ml2.types import mtu
from neutrino.domain.config import DomainConfig

LOG = logging.getLogger(__name__)

TYPE_GROUP = "neutrino.ml2.type_drivers"
MECHANISM_GROUP = "neutrino.ml2.mechanism_drivers"

DriverLoadError = LoadError
"""The ML2 configuration names a driver that cannot be used."""


def load_driver_classes(group: str, names: Iterable[str], kind: str, source: EntryPoints) -> list[tuple[str, Any]]:
    return load_classes(group, names, f"ML2 {kind} driver", source)


class Manager:
    def __init__(self, cfg: DomainConfig, source: EntryPoints | None = None) -> None:
        source = source or installed_entry_points
        self.cfg = cfg
        self.type_drivers: dict[str, TypeDriver] = {}
        for name, cls in load_driver_classes(TYPE_GROUP, cfg.type_drivers, "type", source):
            try:
                driver = cls(cfg)
            except ValueError as exc:
                raise DriverLoadError(f"ML2 type driver '{name}': {exc}") from exc
            if driver.network_type != name:
                raise DriverLoadError(
                    f"ML2 type driver '{name}' implements network type '{driver.network_type}'"
                )
            self.type_drivers[name] = driver
        for net_type in cfg.tenant_network_types:
            if net_type not in self.type_drivers:
                raise DriverLoadError(
                    f"tenant network type '{net_type}' is not among the type drivers "
                    f"({', '.join(self.type_drivers) or 'none'})"
                )
        self.mechanism_drivers: list[MechanismDriver] = []
        for name, cls in load_driver_classes(MECHANISM_GROUP, cfg.mechanism_drivers, "mechanism", source):
            try:
                driver = cls(cfg)
            except (TypeError, ValueError) as exc:
                raise DriverLoadError(f"ML2 mechanism driver '{name}': {exc}") from exc
            driver.name = name
            driver.initialize()
            self.mechanism_drivers.append(driver)
        self._hooked = {
            hook: [d for d in self.mechanism_drivers if getattr(type(d), hook) is not getattr(MechanismDriver, hook)]
            for hook in HOOKS
        }

    # --- segments ---------------------------------------------------------------------------

    def type_driver(self, network_type: str) -> TypeDriver:
        driver = self.type_drivers.get(network_type)
        if driver is None:
            raise errors.InvalidInput(error_message=f"network_type value '{network_type}' not supported")
        return driver

    def reserve_provider_segment(self, session: Session, segment: Segment, project_id: str | None = None) -> Segment:
        driver = self.type_driver(segment.network_type)
        driver.validate_provider_segment(segment)
        return driver.reserve_provider_segment(session, segment, project_id)

    def allocate_tenant_segment(self, session: Session, project_id: str | None = None) -> Segment:
        """From the first of ``tenant_network_types`` that still has a free segment."""
        for net_type in self.cfg.tenant_network_types:
            segment = self.type_drivers[net_type].allocate_tenant_segment(session, project_id)
            if segment is not None:
                return segment
        raise errors.NoNetworkAvailable()

    def release_segment(self, session: Session, segment: Segment) -> None:
        driver = self.type_drivers.get(segment.network_type)
        if driver is not None:  # (a type no longer configured keeps its rows)
            driver.release_segment(session, segment)

    def network_mtu(self, segments: Iterable[Segment]) -> int:
        mtus = [
            self.type_drivers[s.network_type].get_mtu(s.physical_network)
            for s in segments
            if s.network_type in self.type_drivers
        ]
        return mtu.network_mtu(mtus, self.cfg.global_physnet_mtu)

    def sync_allocations(self, session: Session) -> None:
        for driver in self.type_drivers.values():
            driver.sync_allocations(session)

    # --- mechanism hooks --------------------------------------------------------------------

    def wants(self, operation: str) -> bool:
        """Whether any driver implements ``operation`` (e.g. "create_port"): callers skip
        building a context nobody reads."""
        return bool(self._hooked[f"{operation}_precommit"] or self._hooked[f"{operation}_postcommit"])

    def notify(self, session: Session, operation: str, context: Any) -> None:
        """``operation``_precommit now, ``operation``_postcommit once ``session`` commits."""
        pre, post = f"{operation}_precommit", f"{operation}_postcommit"
        for driver in self._hooked[pre]:
            getattr(driver, pre)(context)
        later = self._hooked[post]
        if later:
            after_commit(session, lambda: [getattr(d, post)(context) for d in later])

    # --- binding ----------------------------------------------------------------------------

    def bind_port(self, context: PortContext) -> Binding:
        """Level by level, the first driver (in order) that binds one of the segments wins;
        nobody binding gives ``binding_failed``."""
        segments = list(context.network.network_segments)
        levels: list[tuple[str, str | None]] = []
        for _level in range(MAX_BINDING_LEVELS):
            context.segments_to_bind = segments
            context.binding_levels = list(levels)
            outcome = self._try_drivers(context, {s.id for s in segments}, levels)
            if outcome is None:
                break
            name, (kind, segment_id, payload) = outcome
            levels.append((name, segment_id))
            if kind == "bound":
                vif_type, details = payload
                details["bound_drivers"] = {str(i): driver for i, (driver, _) in enumerate(levels)}
                return Binding(vif_type, details, levels)
            segments = payload
        return Binding(VIF_TYPE_BINDING_FAILED, {}, [])

    def _try_drivers(
        self, context: PortContext, segment_ids: set[str | None], levels: list[tuple[str, str | None]]
    ) -> tuple[str, Any] | None:
        for driver in self.mechanism_drivers:
            # a driver never binds again a segment it already passed on (no loops)
            if any(name == driver.name and seg in segment_ids for name, seg in levels):
                continue
            context._result = None
            try:
                driver.bind_port(context)
            except errors.NeutronError:
                raise
            except Exception:  # noqa: BLE001 - one broken driver must not stop the others
                LOG.exception("mechanism driver %s failed to bind port %s", driver.name, context.current.get("id"))
                continue
            if context._result is not None:
                return driver.name, context._result
        return None


def after_commit(session: Session, fn: Callable[[], Any]) -> None:
    """Run ``fn`` after ``session``'s transaction commits; dropped if it rolls back."""
    info = session.info
    if not info.get("ml2_listening"):
        info["ml2_listening"] = True
        event.listen(session, "after_commit", _run_pending)
        event.listen(session, "after_rollback", _drop_pending)
    info.setdefault("ml2_postcommit", []).append(fn)


def _run_pending(session: Session) -> None:
    for fn in session.info.pop("ml2_postcommit", []):
        try:
            fn()
        except Exception:  # noqa: BLE001 - the transaction is committed; report and go on
            LOG.exception("ML2 postcommit hook failed")


def _drop_pending(session: Session) -> None:
    session.info.pop("ml2_postcommit", None)


def start(sessions: sessionmaker[Session], mgr: Manager) -> Manager:
    """At server start: make the allocation tables match the configured ranges."""
    run_in_transaction(sessions, mgr.sync_allocations)
    return mgr
