"""Load named classes from Python entry points, in the configured order.

Third parties extend neutrino by installing a package that declares an entry point (ML2 type
and mechanism drivers, service plugins); the configuration names which ones run and in what
order. A name nothing provides, a duplicate or an import failure is a ``LoadError`` naming the
culprit and what is installed, so that a server stops at start with a useful message.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Iterable
from typing import Any

EntryPoints = Callable[[str], Iterable[Any]]
"""group -> entry points (objects with ``name`` and ``load()``); tests inject their own."""


class LoadError(ValueError):
    """The configuration names something that cannot be used."""


def installed_entry_points(group: str) -> Iterable[Any]:
    return importlib.metadata.entry_points(group=group)


def load_classes(group: str, names: Iterable[str], what: str, source: EntryPoints) -> list[tuple[str, Any]]:
    """``(name, loaded object)`` for ``names`` in that order; ``what`` names the kind in errors."""
    available: dict[str, Any] = {}
    for ep in source(group):
        available.setdefault(ep.name, ep)
    out: list[tuple[str, Any]] = []
    for name in names:
        if any(name == done for done, _ in out):
            raise LoadError(f"{what} '{name}' is configured twice")
        ep = available.get(name)
        if ep is None:
            have = ", ".join(sorted(available)) or "none"
            raise LoadError(f"unknown {what} '{name}' (installed: {have}; entry point group {group})")
        try:
            out.append((name, ep.load()))
        except Exception as exc:  # noqa: BLE001 - any import failure is a configuration error
            raise LoadError(f"{what} '{name}' cannot be loaded: {exc}") from exc
    return out
