"""Flavors, service profiles and service types (neutron-lib's exceptions/flavors.py and
exceptions/__init__.py's InvalidServiceType; docs/neutron-behaviour.md, "Flavors and service
types")."""

from __future__ import annotations

from neutrino.errors.base import Conflict, InUse, InvalidInput, NotFound, ServiceUnavailable


class FlavorNotFound(NotFound):
    template = "Flavor %(flavor_id)s could not be found."


class FlavorInUse(InUse):
    template = "Flavor %(flavor_id)s is used by some service instance."


class ServiceProfileNotFound(NotFound):
    template = "Service Profile %(sp_id)s could not be found."


class ServiceProfileInUse(InUse):
    template = "Service Profile %(sp_id)s is used by some service instance."


class FlavorServiceProfileBindingExists(Conflict):
    template = "Service Profile %(sp_id)s is already associated with flavor %(fl_id)s."


class FlavorServiceProfileBindingNotFound(NotFound):
    template = "Service Profile %(sp_id)s is not associated with flavor %(fl_id)s."


class ServiceProfileDriverNotFound(NotFound):
    """A NotFound in neutron-lib, so 404 although the request named the driver."""

    template = "Service Profile driver %(driver)s could not be found."


class ServiceProfileEmpty(InvalidInput):
    template = "Service Profile needs either a driver or metainfo."


class ServiceProfileDisabled(ServiceUnavailable):
    template = "Service Profile is not enabled."


class InvalidServiceType(InvalidInput):
    template = "Invalid service type: %(service_type)s."
