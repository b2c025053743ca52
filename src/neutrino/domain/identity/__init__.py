"""A Keystone v3-compatible identity store, so that unmodified OpenStack clients can log in.

neutrino serves a subset of Keystone itself instead of depending on one: password and token
authentication, project scoping, signed expiring tokens, and enough administration (projects,
users, roles, grants) for test tools and operators. ``service`` holds the operations,
``tokens`` the token format and validation cache, ``passwords`` the hashing and ``bootstrap``
the first start and the contents of the client configuration files (``neutrino.client_files``
writes them).
"""

from neutrino.domain.identity.bootstrap import bootstrap
from neutrino.domain.identity.service import IdentityError
from neutrino.domain.identity.tokens import TokenInfo, TokenService

__all__ = ["IdentityError", "TokenInfo", "TokenService", "bootstrap"]
