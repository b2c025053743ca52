"""SQLAlchemy 2 mappings. Importing this package registers every table on ``Base.metadata``."""

from neutrino.domain.models.base import Base
from neutrino.domain.models.identity import Project, Role, RoleAssignment, SigningKey, User
from neutrino.domain.models.network import Network
from neutrino.domain.models.port import IPAllocation, Port
from neutrino.domain.models.quota import Quota
from neutrino.domain.models.subnet import AllocationPool, DNSNameServer, HostRoute, Subnet
from neutrino.domain.models.tag import Tag

__all__ = [
    "AllocationPool",
    "Base",
    "DNSNameServer",
    "HostRoute",
    "IPAllocation",
    "Network",
    "Port",
    "Project",
    "Quota",
    "Role",
    "RoleAssignment",
    "SigningKey",
    "Subnet",
    "Tag",
    "User",
]
