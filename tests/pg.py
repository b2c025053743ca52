"""The tests' throwaway PostgreSQL cluster: neutrino's own launcher (a helper module, not a
test; see src/neutrino/dataplane/postgres.py)."""

from neutrino.dataplane.postgres import PostgresCluster, PostgresUnavailable, find_bindir

__all__ = ["PostgresCluster", "PostgresUnavailable", "find_bindir"]
