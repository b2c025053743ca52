"""The server-agent contract: what an agent may know of the server, and nothing more.

``desired`` holds the desired-state types a host's agents converge to, ``messages`` the bus's
topics, methods and versioned bodies with the desired-state codec, ``protocols`` the IP
protocol numbers the firewall needs. This package imports nothing else of neutrino (an
import-linter contract in pyproject.toml checks it), so an agent process loads neither the
ORM, the web framework nor ``domain/``.
"""
