"""Deleting connection-tracking entries (``conntrack -D``) in a namespace.

The firewall deletes the entries a removed security group rule matched; each filter is one
``conntrack`` argument list (zone, family, addresses, protocol, port). "No entry matched" is
the common answer and not an error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from neutrino.dataplane import exec as programs
from neutrino.dataplane.errors import ProgramMissing

LOG = logging.getLogger(__name__)


class Conntrack:
    def delete(self, filters: Iterable[Sequence[str]], *, netns: str | None) -> int:
        """Delete the entries matching each filter; the number of filters run."""
        count = 0
        for argv in filters:
            try:
                programs.run(["conntrack", "-D", *argv], netns=netns, check=False)
            except ProgramMissing:
                LOG.warning("conntrack is not installed: established connections outlive removed rules")
                return count
            count += 1
        return count
