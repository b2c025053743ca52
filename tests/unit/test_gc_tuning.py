"""The server's start-up objects are frozen out of the cyclic collector's reach."""

from __future__ import annotations

import gc

import pytest

from neutrino.gc_tuning import freeze_startup_objects

pytestmark = pytest.mark.unit


def test_what_exists_is_frozen_and_later_garbage_is_still_collected() -> None:
    try:
        assert freeze_startup_objects() == gc.get_freeze_count() > 0

        class Cycle:
            pass

        a, b = Cycle(), Cycle()
        a.other, b.other = b, a  # type: ignore[attr-defined]
        del a, b
        assert gc.collect() >= 2  # made after the freeze: collected as before
    finally:
        gc.unfreeze()
