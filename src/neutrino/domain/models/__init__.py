"""SQLAlchemy 2 mappings. Importing this package registers every table on ``Base.metadata``."""

from neutrino.domain.models.auto_allocate import AutoAllocatedTopology, ExternalNetworkDefault
from neutrino.domain.models.address_group import AddressGroup, AddressGroupAddress
from neutrino.domain.models.agent import Agent, NetworkDhcpAgentBinding, RouterL3AgentBinding
from neutrino.domain.models.base import Base
from neutrino.domain.models.bus_log import BusEvent, BusFingerprint
from neutrino.domain.models.binding import PortBinding, PortBindingLevel, ProvisioningBlock
from neutrino.domain.models.default_sg_rule import DefaultSecurityGroupRule
from neutrino.domain.models.dns import NetworkDNSDomain, PortDNS
from neutrino.domain.models.flavor import Flavor, FlavorServiceProfileBinding, ServiceProfile
from neutrino.domain.models.l3_ha import HaNetwork, HaPortBinding, HaRouter
from neutrino.domain.models.identity import Project, RevokedToken, Role, RoleAssignment, SigningKey, User
from neutrino.domain.models.network import Network
from neutrino.domain.models.port import IPAllocation, Port
from neutrino.domain.models.port_forwarding import PortForwarding
from neutrino.domain.models.conntrack_helper import ConntrackHelper
from neutrino.domain.models.port_extras import AllowedAddressPair, ExtraDhcpOpt
from neutrino.domain.models.qos import (
    QosDefaultPolicy,
    QosNetworkBinding,
    QosPolicy,
    QosPortBinding,
    QosRule,
)
from neutrino.domain.models.quota import Quota
from neutrino.domain.models.rbac import RbacPolicy
from neutrino.domain.models.router import FloatingIP, Router, RouterPort, RouterRoute
from neutrino.domain.models.secgroup import (
    DefaultSecurityGroup,
    SecurityGroup,
    SecurityGroupPortBinding,
    SecurityGroupRule,
)
from neutrino.domain.models.segment import (
    FlatAllocation,
    GeneveAllocation,
    NetworkSegment,
    TunnelEndpoint,
    VlanAllocation,
    VxlanAllocation,
)
from neutrino.domain.models.segment_range import NetworkSegmentRange
from neutrino.domain.models.subnet import AllocationPool, DNSNameServer, HostRoute, Subnet
from neutrino.domain.models.subnet_pool import AddressScope, SubnetPool, SubnetPoolPrefix
from neutrino.domain.models.subnet_service_type import SubnetServiceType
from neutrino.domain.models.tag import Tag
from neutrino.domain.models.trunk import SubPort, Trunk

__all__ = [
    "Flavor",
    "FlavorServiceProfileBinding",
    "ServiceProfile",
    "HaNetwork",
    "HaPortBinding",
    "HaRouter",
    "AddressScope",
    "SubnetPool",
    "SubnetPoolPrefix",
    "AutoAllocatedTopology",
    "ExternalNetworkDefault",
    "PortForwarding",
    "ConntrackHelper",
    "AddressGroup",
    "AddressGroupAddress",
    "DefaultSecurityGroupRule",
    "NetworkDNSDomain",
    "PortDNS",
    "Agent",
    "BusEvent",
    "BusFingerprint",
    "AllowedAddressPair",
    "DefaultSecurityGroup",
    "ExtraDhcpOpt",
    "FlatAllocation",
    "FloatingIP",
    "GeneveAllocation",
    "NetworkDhcpAgentBinding",
    "NetworkSegment",
    "NetworkSegmentRange",
    "PortBinding",
    "PortBindingLevel",
    "ProvisioningBlock",
    "Router",
    "RouterL3AgentBinding",
    "RouterPort",
    "RouterRoute",
    "SecurityGroup",
    "SecurityGroupPortBinding",
    "SecurityGroupRule",
    "TunnelEndpoint",
    "VlanAllocation",
    "VxlanAllocation",
    "AllocationPool",
    "Base",
    "DNSNameServer",
    "HostRoute",
    "IPAllocation",
    "Network",
    "Port",
    "Project",
    "QosDefaultPolicy",
    "QosNetworkBinding",
    "QosPolicy",
    "QosPortBinding",
    "QosRule",
    "Quota",
    "RbacPolicy",
    "RevokedToken",
    "Role",
    "RoleAssignment",
    "SigningKey",
    "Subnet",
    "SubnetServiceType",
    "Tag",
    "SubPort",
    "Trunk",
    "User",
]
