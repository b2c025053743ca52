"""Trunks (Neutron's services/trunk/exceptions.py): the messages and statuses clients see."""

from __future__ import annotations

from neutrino.errors.base import Conflict, InUse, NotFound


class TrunkPortInUse(InUse):
    template = "Port %(port_id)s is in use by another trunk."


class TrunkNotFound(NotFound):
    template = "Trunk %(trunk_id)s could not be found."


class SubPortNotFound(NotFound):
    template = "SubPort %(port_id)s on trunk %(trunk_id)s could not be found."


class DuplicateSubPort(InUse):
    template = (
        "segmentation_type %(segmentation_type)s and segmentation_id %(segmentation_id)s "
        "already in use on trunk %(trunk_id)s."
    )


class ParentPortInUse(InUse):
    template = "Port %(port_id)s is currently in use and is not eligible for use as a parent port."


class SubPortMtuGreaterThanTrunkPortMtu(Conflict):
    template = (
        "MTU %(port_mtu)s of subport %(port_id)s cannot be greater than MTU %(trunk_mtu)s "
        "of trunk %(trunk_id)s."
    )


class PortInUseAsTrunkParent(InUse):
    template = "Port %(port_id)s is currently a parent port for trunk %(trunk_id)s."


class PortInUseAsSubPort(InUse):
    template = "Port %(port_id)s is currently a subport for trunk %(trunk_id)s."


class TrunkInUse(InUse):
    template = "Trunk %(trunk_id)s is currently in use."


class TrunkDisabled(Conflict):
    template = "Trunk %(trunk_id)s is currently disabled."


class TrunkInErrorState(Conflict):
    template = (
        "Trunk %(trunk_id)s is in error state. Attempt to resolve the error condition before proceeding."
    )
