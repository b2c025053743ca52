"""neutrino: the OpenStack Neutron networking model on real Linux."""

__version__ = "0.1.0"
