"""glibc malloc settings for the long-running server process: a heap that gives memory back.

glibc's malloc gives each thread that allocates its own arena, and raises its mmap threshold
to the size of the largest block freed so far. In the API server, where a login against a
password hashed before PBKDF2 became the scheme verifies it with scrypt (16 MiB,
domain/identity/passwords.py), the second rule would keep the next 16 MiB on the heap for good, and the first multiplies the heap by the threads that
allocate (the notifier, the agents' long polls). Two arenas and a fixed 1 MiB threshold keep
the resident size near what is in use (measured with bench/api.py: 18 MiB less after a login,
docs/conformance.md, "API speed").
"""

from __future__ import annotations

import ctypes
import logging

LOG = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
MMAP_THRESHOLD = 1 << 20
ARENA_MAX = 2


def tune_malloc() -> bool:
    """Two malloc arenas and a fixed mmap threshold; False where that is not glibc's malloc.
    For the server process only, called before it starts any thread."""
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    if mallopt(_M_ARENA_MAX, ARENA_MAX) and mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD):
        return True
    LOG.debug("mallopt refused; the default malloc settings stay")
    return False
