"""Histogram buckets, in seconds, for the durations neutrino measures.

API requests take well under a millisecond to tens of milliseconds; a port becomes ACTIVE and
an agent pass completes in tens of milliseconds to seconds; notifications cross the bus in
milliseconds. One ladder covers them all, finer at the low end where the targets are.
"""

from __future__ import annotations

SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
