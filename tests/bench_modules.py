"""Load a module of ``bench/`` (scripts, not a package) as a test would import one: the bench
folder joins ``sys.path`` first, since a bench imports its siblings by name as ``python
bench/NAME.py`` lets it (``from dataplane_table import median``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[1] / "bench"


def load(name: str) -> ModuleType:
    """``bench/<name>.py``, executed afresh as module ``bench_<name>``."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
