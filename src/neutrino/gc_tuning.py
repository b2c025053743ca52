"""The cyclic garbage collector in the long-running server: what exists once the app is built
is moved out of its reach.

Why: a full collection walks every object the collector tracks, and once the server has
started that is some 190,000 (modules, the app and its routes, SQLAlchemy's mappers, pydantic's
validators), none of which will ever be garbage. On a loaded machine a full collection took 40
to 270 ms, three times over a run of bench/api.py, each a pause in the request being served and
most of the difference between two runs' port deletes. ``gc.freeze()`` puts every object there
is into a permanent generation the collector skips; what is allocated later is collected as
before (Python's documented use: a server freezing its start-up objects).
"""

from __future__ import annotations

import gc
import logging

LOG = logging.getLogger(__name__)


def freeze_startup_objects() -> int:
    """Collect once, then freeze what is left; returns how many objects were frozen. For the
    server process (or an API worker) once its app is built, before it serves."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    LOG.debug("%d start-up objects out of the garbage collector's reach", frozen)
    return frozen
