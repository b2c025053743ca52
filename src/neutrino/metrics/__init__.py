"""Prometheus metrics of the server and of each agent process (docs/observability.md).

Each process owns its metrics object (no process-global registry: two servers or agents in one
test process never share counters). This package knows prometheus_client only: the server's
database-backed figures arrive as callables, so an agent process that imports
``neutrino.metrics.agent`` loads neither SQLAlchemy nor the web framework.
"""
