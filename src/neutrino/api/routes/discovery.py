"""``GET /`` (versions), ``GET /v2.0/`` (resources) and ``/v2.0/extensions``.

The extension list names exactly what this server implements: clients such as the openstack
CLI probe it to decide which request shapes to send.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from neutrino import errors
from neutrino.api import respond
from neutrino.api.attributes import RESOURCES
from neutrino.api.ipam_attributes import IPAM_RESOURCES
from neutrino.api.auth import context_for, state_of
from neutrino.api.security_attributes import ADDRESS_GROUP, DEFAULT_SECURITY_GROUP_RULE, NETWORK_SEGMENT_RANGE

router = APIRouter(tags=["discovery"])

UPDATED = "2026-11-25T00:00:00-00:00"

EXTENSIONS: list[tuple[str, str, str]] = [
    ("project-id", "project-id field enabled", "Extension that indicates that project_id is enabled."),
    ("standard-attr-description", "standard-attr-description", "Extension to add descriptions to standard attributes"),
    ("standard-attr-timestamp", "Resource timestamps", "Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes."),
    ("standard-attr-revisions", "Resource revision numbers", "This extension will display the revision number of neutron resources."),
    ("revision-if-match", "If-Match constraints based on revision_number", "Extension indicating that If-Match based on revision_number is supported."),
    ("standard-attr-tag", "Tag support for resources with standard attribute: subnet, trunk, network_segment_range, router, network, policy, subnetpool, port, security_group, floatingip", "Enables to set tag on resources with standard attribute."),
    # the older alias of network tags, kept for clients that probe it (tempest's TagsTest)
    ("tag", "Tag support", "Enables to set tag on resources."),
    ("quotas", "Quota management support", "Expose functions for quotas management per project"),
    ("quota_details", "Quota details management support", "Expose functions for quotas usage statistics per project"),
    (
        "quota-check-limit",
        "Quota engine limit check",
        "Support for checking the resource usage before applying a new quota limit value",
    ),
    (
        "quota-check-limit-default",
        "Quota engine limit check by default",
        "By default, the Neutron quota engine checks the resource usage before applying a new quota limit",
    ),
    ("net-mtu", "Network MTU", "Provides MTU attribute for a network resource."),
    ("net-mtu-writable", "Network MTU (writable)", "Provides a writable MTU attribute for a network resource."),
    ("filter-validation", "Filter parameters validation", "Provides validation on filter parameters."),
    ("empty-string-filtering", "Empty String Filtering Extension", "Allow filtering by attributes with empty string value"),
    ("ip-substring-filtering", "IP address substring filtering", "Provides IP address substring filtering when listing ports"),
    ("pagination", "Pagination support", "Extension that indicates that pagination is enabled."),
    ("sorting", "Sorting support", "Extension that indicates that sorting is enabled."),
    ("provider", "Provider Network", "Expose mapping of virtual networks to physical networks"),
    ("multi-provider", "Multi Provider Network", "Expose mapping of virtual networks to multiple physical networks"),
    ("segment", "Segment", "Segments extension."),
    ("standard-attr-segment", "Standard Attribute Segment Extension", "Add standard attributes to Segment resource"),
    ("network-segment-range", "Neutron Network Segment Range", "Provides support for the network segment range management"),
    ("external-net", "Neutron external network", "Adds external network attribute to network resource."),
    ("subnet-external-network", "Subnet belongs to an external network", "Informs if the subnet belongs to an external network"),
    ("binding", "Port Binding", "Expose port bindings of a virtual port to external application"),
    ("security-group", "security-group", "The security groups extension."),
    ("stateful-security-group", "Stateful security group", "Indicates if the security group is stateful or not"),
    ("security-groups-normalized-cidr", "Security group rule normalized CIDR", "Add new field with normalized remote_ip_prefix cidr in SG rule"),
    ("address-group", "Address group", "Support address group"),
    ("security-groups-remote-address-group", "Remote address group id field for security group rules", "Add new field of remote address group id in SG rules"),
    ("security-groups-default-rules", "Default rules for security groups", "Configure set of security group rules used as default rules for every new security group"),
    ("dns-integration", "DNS Integration", "Provides integration with DNS."),
    ("dns-domain-ports", "dns_domain for ports", "Allows the DNS domain to be specified for a network port."),
    ("port-security", "Port Security", "Provides port security"),
    ("allowed-address-pairs", "Allowed Address Pairs", "Provides allowed address pairs"),
    ("extra_dhcp_opt", "Neutron Extra DHCP options", "Extra options configuration for DHCP. For example PXE boot options to DHCP clients can be specified (e.g. tftp-server, server-ip-address, bootfile-name)"),
    ("agent", "agent", "The agent management extension."),
    ("dhcp_agent_scheduler", "DHCP Agent Scheduler", "Schedule networks among dhcp agents"),
    # subnet pools and address scopes (api/routes/subnet_pools.py)
    ("subnet_allocation", "Subnet Allocation", "Enables allocation of subnets from a subnet pool"),
    ("default-subnetpools", "Default Subnetpools", "Provides ability to mark and use a subnetpool as the default."),
    ("subnetpool-prefix-ops", "Subnet Pool Prefix Operations", "Provides support for adjusting the prefix list of subnet pools"),
    ("address-scope", "Address scope", "Address scopes extension."),
    # this project's own: GET /v2.0/trace (docs/trace.md)
    ("neutrino-trace", "Packet trace", "Explains one packet's path hop by hop (bridges, flows, VIDs, VNIs, routes, "
     "NAT, security groups) from the API's intent and each host's live dataplane, and where the two disagree."),
    # this project's own: GET/POST /v2.0/audit (docs/audit.md)
    ("neutrino-audit", "Dataplane audit", "Compares each host's dataplane with the desired state object by object "
     "(OVSDB ports, flows, tunnels, namespaces, veths, nftables, dnsmasq, routes, NAT, port status) and repairs what "
     "neutrino owns on request."),
    ("rbac-policies", "RBAC Policies", "Allows creation and modification of policies that control project access to resources."),
    ("tag-ports-during-bulk-creation", "Tag Ports During Bulk Creation", "Allow to tag ports during bulk creation"),
    ("port-mac-address-regenerate", "Neutron Port MAC address regenerate", "Network port MAC address regenerate"),
    ("network-ip-availability", "Network IP Availability", "Provides IP availability data for each network and subnet."),
    ("subnet-service-types", "Subnet service types", "Provides ability to set the subnet service_types field"),
    ("availability_zone", "Availability Zone", "The availability zone extension."),
    ("network_availability_zone", "Network Availability Zone", "Availability zone support for network."),
    ("standard-attr-segment", "Standard Attribute Segment Extension", "Add standard attributes to Segment resource"),
    ("rbac-security-groups", "RBAC Security Groups", "Add RBAC support to security groups."),
    ("rbac-subnetpool", "Add subnetpool RBAC support", "Support subnetpool RBAC."),
    ("rbac-address-scope", "Add address_scope RBAC support", "Support address scope RBAC."),
    ("rbac-address-group", "Add address_group RBAC support", "Support address group RBAC."),
]


def _extensions(request: Request) -> list[tuple[str, str, str]]:
    """The core extensions, then those of the loaded service plugins."""
    plugins = state_of(request).service_plugins
    return EXTENSIONS + [(e.alias, e.name, e.description) for p in plugins for e in p.extensions]


def _ext(alias: str, name: str, description: str) -> dict[str, object]:
    return {"alias": alias, "name": name, "description": description, "updated": UPDATED, "links": []}


@router.get("/", name="versions")
async def versions(request: Request) -> Response:
    url = state_of(request).settings.url
    doc = {"versions": [{"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": f"{url}/v2.0/"}]}]}
    return respond.json(doc)


@router.get("/v2.0", name="resources_noslash", include_in_schema=False)
@router.get("/v2.0/", name="resources")
async def resources(request: Request) -> Response:
    context_for(request)
    url = state_of(request).settings.url
    out = [
        {
            "name": spec.singular,
            "collection": spec.collection,
            "links": [{"rel": "self", "href": f"{url}/v2.0/{spec.path}"}],
        }
        for spec in [
            *RESOURCES.values(), *IPAM_RESOURCES.values(), ADDRESS_GROUP, DEFAULT_SECURITY_GROUP_RULE,
            NETWORK_SEGMENT_RANGE, *(r for p in state_of(request).service_plugins for r in p.resources()),
        ]
    ]
    return respond.json({"resources": out})


@router.get("/v2.0/extensions", name="list_extensions")
async def list_extensions(request: Request) -> Response:
    context_for(request)
    return respond.json({"extensions": [_ext(*e) for e in _extensions(request)]})


@router.get("/v2.0/extensions/{alias}", name="show_extension")
async def show_extension(request: Request, alias: str) -> Response:
    context_for(request)
    for ext in _extensions(request):
        if ext[0] == alias:
            return respond.json({"extension": _ext(*ext)})
    raise errors.HTTPNotFound(msg=f"Extension with alias {alias} does not exist")
