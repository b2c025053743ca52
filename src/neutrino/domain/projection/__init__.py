"""The desired state of one host, built from the database.

``project_host(session, host)`` reads the rows and returns a ``DesiredHostState`` of
``neutrino.contract.desired``: typed, immutable, versioned data. Agents never see rows or the
API; they converge the host to this.
"""

from neutrino.domain.projection.build import project_host

__all__ = ["project_host"]
