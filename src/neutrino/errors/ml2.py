"""ML2 segments and external networks (neutron-lib's exceptions/__init__.py).
"""

from __future__ import annotations

from neutrino.errors.base import BadRequest, Conflict, InUse, InvalidInput, NotFound, ServiceUnavailable


class NoNetworkAvailable(ServiceUnavailable):
    template = "Unable to create the network. No tenant network is available for allocation."


class VlanIdInUse(InUse):
    template = (
        "Unable to create the network. The VLAN %(vlan_id)s on physical network "
        "%(physical_network)s is in use."
    )


class TunnelIdInUse(InUse):
    template = "Unable to create the network. The tunnel ID %(tunnel_id)s is in use."


class FlatNetworkInUse(InUse):
    template = "Unable to create the flat network. Physical network %(physical_network)s is in use."


class ExternalNetworkInUse(InUse):
    template = (
        "External network %(net_id)s cannot be updated to be made non-external, since it has "
        "existing gateway ports."
    )


class NetworkMTUSubnetConflict(Conflict):
    template = "MTU of %(net_id)s is not valid, subnet requires a minimum of %(mtu)s"


# --- network segment ranges (neutron-lib's exceptions/network_segment_range.py) -----------------


class NetworkSegmentRangeNetTypeNotSupported(BadRequest):
    template = "Network type %(type)s does not support network segment ranges."


class NetworkSegmentRangeNotFound(NotFound):
    template = "Network Segment Range %(range_id)s could not be found."


class NetworkSegmentRangeReferencedByProject(InUse):
    template = "Network Segment Range %(range_id)s is referenced by one or more project networks."


class NetworkSegmentRangeDefaultReadOnly(BadRequest):
    template = "Network Segment Range %(range_id)s is a default segment range which could not be updated or deleted."


class NetworkSegmentRangeOverlaps(Conflict):
    template = "Network segment range overlaps with range(s) with id %(range_id)s"


class SegmentsSetInConjunctionWithProviders(InvalidInput):
    template = "Segments and provider values cannot both be set."


class SegmentsContainDuplicateEntry(InvalidInput):
    template = "Duplicate segment entry in request."


class SegmentNotFound(NotFound):
    template = "Segment %(segment_id)s could not be found."


class SegmentInUse(InUse):
    template = "Segment '%(segment_id)s' cannot be deleted: %(reason)s."
