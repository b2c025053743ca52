"""Keystone v3-compatible identity API, served under ``/identity`` by the same process."""

from neutrino.api.identity.routes import ROUTERS

__all__ = ["ROUTERS"]
